import { BalerError } from '../core/errors.js';

/** A file could not be converted (unreadable, bad input, upload failed). The other files go on. */
export class ConvertError extends BalerError {
  /** The input, as `s3://bucket/key`, when known. */
  readonly src?: string;

  constructor(message: string, options?: ErrorOptions & { src?: string; code?: string }) {
    super(options?.code ?? 'CONVERT_FAILED', message, options);
    if (options?.src !== undefined) this.src = options.src;
  }
}

/** More records were rejected than `--max-reject-ratio` allows. */
export class RejectRatioError extends ConvertError {
  constructor(message: string, options?: ErrorOptions & { src?: string }) {
    super(message, { ...options, code: 'CONVERT_REJECT_RATIO' });
  }
}

/** A declared schema (`--schema`) is not valid or does not fit the file's header. */
export class SchemaError extends ConvertError {
  constructor(message: string, options?: ErrorOptions & { src?: string }) {
    super(message, { ...options, code: 'CONVERT_SCHEMA' });
  }
}
