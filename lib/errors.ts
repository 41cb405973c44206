/**
 * Error classes and the exit codes they map to. Every error a user can cause carries a one-line
 * message naming the file (when there is one) and the problem; the CLI prints `message` alone,
 * the stack only under --verbose.
 */

export const EXIT_CODES = Object.freeze({ ok: 0, runtime: 1, usage: 2 });

/** Base class: an error the toolkit expects and can explain in one line. */
export class AdaptAsrError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_CODES.runtime) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** The command line or an option value is wrong (exit code 2). */
export class UsageError extends AdaptAsrError {
  constructor(message: string) {
    super(message, EXIT_CODES.usage);
  }
}

/** An input file cannot be used: unreadable, malformed, unsupported (exit code 1). */
export class InputError extends AdaptAsrError {
  /** Path of the offending file, when the input came from a file. */
  readonly file?: string;
  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message, EXIT_CODES.runtime);
    this.file = file;
  }
}

/** A model directory, ONNX file or adapter is missing, corrupt or does not fit (exit code 1). */
export class ModelError extends AdaptAsrError {
  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message, EXIT_CODES.runtime);
  }
}

/** A configuration object passed to the library is invalid (exit code 2 from the CLI). */
export class ConfigError extends AdaptAsrError {
  constructor(message: string) {
    super(message, EXIT_CODES.usage);
  }
}

/** Exit code and one-line message for any thrown value; unknown errors are runtime errors. */
export function describeError(err: unknown): { exitCode: number; message: string } {
  if (err instanceof AdaptAsrError) return { exitCode: err.exitCode, message: err.message };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
    // fs errors: "ENOENT: no such file or directory, open 'x.wav'" is already one line.
    return { exitCode: EXIT_CODES.runtime, message: e.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: EXIT_CODES.runtime, message: `internal error: ${message.split('\n')[0]}` };
}
