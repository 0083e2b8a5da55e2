/**
 * Lines for stdout, written together once per turn of the event loop (setImmediate) instead of
 * one `write` system call each: a burst of deliveries answered in one turn costs one write. Lines
 * keep their order; whatever is still buffered when the process exits is written then, at once.
 * For a long-running server: a host that may freeze the process as soon as a request is answered
 * (Cloud Functions) writes each line at once instead.
 */
export function stdoutLines(): (line: string) => void {
  let pending = "";
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    process.stdout.write(text);
  };
  // stdout is written synchronously to files, terminals and (on Linux) pipes, so this lands before exit.
  process.once("exit", flush);
  return (line) => {
    pending += line + "\n";
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
}
