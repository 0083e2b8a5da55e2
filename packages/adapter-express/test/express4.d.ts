// Express 4 is installed as the dev alias "express4" (npm:express@^4) to test the handler
// against both majors; this is the little of its API the tests use.
declare module "express4" {
  import type { IncomingMessage, Server, ServerResponse } from "node:http";
  type Handler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  interface App {
    (req: IncomingMessage, res: ServerResponse): void;
    use(path: string, ...handlers: Handler[]): App;
    use(...handlers: Handler[]): App;
    listen(port: number, host: string, callback: () => void): Server;
  }
  interface Express4 {
    (): App;
    json(options?: { verify?: (req: IncomingMessage, res: ServerResponse, buffer: Buffer, encoding: string) => void }): Handler;
  }
  const express: Express4;
  export default express;
}
