/** Jobs tracked per attempt (the same bound as machine.ts MAX_JOBS; kept here to avoid an import cycle). */
export const MAX_JOBS_IN_RECORD = 1024;
