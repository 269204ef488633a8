/**
 * Typed errors shared by every module. Domain modules subclass these; the HTTP and
 * WebSocket middlewares map them to API.md's error shape in one place. Only errors
 * below 500 show their message to clients.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'access_denied'
  | 'not_found'
  | 'conflict'
  | 'idempotency_key_reused'
  | 'payload_too_large'
  | 'rate_limited'
  | 'access_provider_unavailable'
  | 'internal';

export interface AppErrorOptions {
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly cause?: unknown;
}

export class AppError extends Error {
  override readonly name: string = 'AppError';
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details;
    this.headers = options.headers;
  }
}

export class InvalidRequestError extends AppError {
  override readonly name: string = 'InvalidRequestError';
  constructor(message: string, options?: AppErrorOptions) {
    super(400, 'invalid_request', message, options);
  }
}

export class UnauthenticatedError extends AppError {
  override readonly name: string = 'UnauthenticatedError';
  constructor(message = 'A valid bearer token is required.', options?: AppErrorOptions) {
    super(401, 'unauthenticated', message, options);
  }
}

export class AccessDeniedError extends AppError {
  override readonly name: string = 'AccessDeniedError';
  constructor(message = 'You may not do that here.', options?: AppErrorOptions) {
    super(403, 'access_denied', message, options);
  }
}

export class NotFoundError extends AppError {
  override readonly name: string = 'NotFoundError';
  constructor(message = 'Not found.', options?: AppErrorOptions) {
    super(404, 'not_found', message, options);
  }
}

export class ConflictError extends AppError {
  override readonly name: string = 'ConflictError';
  constructor(message: string, options?: AppErrorOptions) {
    super(409, 'conflict', message, options);
  }
}

export class IdempotencyKeyReusedError extends AppError {
  override readonly name: string = 'IdempotencyKeyReusedError';
  constructor(message = 'This idempotency key was already used with a different payload.', options?: AppErrorOptions) {
    super(409, 'idempotency_key_reused', message, options);
  }
}

export class PayloadTooLargeError extends AppError {
  override readonly name: string = 'PayloadTooLargeError';
  constructor(message: string, options?: AppErrorOptions) {
    super(413, 'payload_too_large', message, options);
  }
}

export class RateLimitedError extends AppError {
  override readonly name: string = 'RateLimitedError';
  constructor(retryAfterSeconds: number, message = 'Too many concurrent writes; retry later.', options?: AppErrorOptions) {
    super(429, 'rate_limited', message, {
      ...options,
      headers: { ...options?.headers, 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

export class AccessProviderUnavailableError extends AppError {
  override readonly name: string = 'AccessProviderUnavailableError';
  constructor(message = 'Access cannot be checked right now.', options?: AppErrorOptions) {
    super(503, 'access_provider_unavailable', message, options);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

const PUBLIC_5XX_MESSAGES: Partial<Record<ErrorCode, string>> & { internal: string } = {
  internal: 'Internal error.',
  access_provider_unavailable: 'Access cannot be checked right now.',
};

/** The API.md error shape for any thrown value; unknown errors become a bare 500. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof AppError && error.status < 500) {
    return {
      status: error.status,
      headers: error.headers ?? {},
      body: { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } },
    };
  }
  if (error instanceof AppError) {
    // 5xx messages may carry internals: clients get a fixed sentence per code.
    const message = PUBLIC_5XX_MESSAGES[error.code] ?? PUBLIC_5XX_MESSAGES.internal;
    return { status: error.status, headers: error.headers ?? {}, body: { error: { code: error.code, message } } };
  }
  return { status: 500, headers: {}, body: { error: { code: 'internal', message: PUBLIC_5XX_MESSAGES.internal } } };
}
