import { registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * A URL whose scheme is one of `schemes` (without the colon), e.g. `IsServiceUrl(['nats', 'tls'])`
 * accepts `nats://10.0.0.1:4222`. Several URLs may be given comma-separated when `list` is set
 * (NATS clusters). With `optional`, the empty string (not configured) is accepted too.
 */
export function IsServiceUrl(schemes: readonly string[], options: ValidationOptions & { list?: boolean; optional?: boolean } = {}): PropertyDecorator {
  return (target, key) => {
    registerDecorator({
      name: 'isServiceUrl',
      target: target.constructor,
      propertyName: key as string,
      options: { message: `$property must be a URL with scheme ${schemes.map((s) => `${s}://`).join(' or ')}${options.optional ? ' (or empty)' : ''}`, ...options },
      validator: {
        validate(value: unknown): boolean {
          if (options.optional && value === '') return true;
          if (typeof value !== 'string' || value.trim() === '') return false;
          const parts = options.list ? value.split(',').map((part) => part.trim()) : [value];
          return parts.every((part) => isUrlWithScheme(part, schemes));
        },
      },
    });
  };
}

function isUrlWithScheme(text: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(text);
    if (!schemes.includes(url.protocol.slice(0, -1))) return false;
    return url.protocol === 'unix:' || url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * A gRPC target as @grpc/grpc-js takes it: `host:port` (`[::1]:50051` for IPv6) or
 * `unix:///absolute/path.sock`.
 */
export function IsGrpcTarget(options: ValidationOptions = {}): PropertyDecorator {
  return (target, key) => {
    registerDecorator({
      name: 'isGrpcTarget',
      target: target.constructor,
      propertyName: key as string,
      options: { message: '$property must be host:port or unix:///path', ...options },
      validator: {
        validate(value: unknown): boolean {
          return typeof value === 'string' && isGrpcTarget(value);
        },
      },
    });
  };
}

/** `host:port` (IPv6 in brackets), port 0–65535. */
export function isHostPort(text: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[2]) <= 65535;
}

/** What `IsGrpcTarget` accepts: `host:port`, or `unix:///` followed by an absolute socket path. */
export function isGrpcTarget(text: string): boolean {
  return text.startsWith('unix:///') ? text.length > 'unix:///'.length : isHostPort(text);
}
