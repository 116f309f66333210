/**
 * Stream provisioning: create a stream from config when it is missing, and refuse to run against
 * an existing stream whose config differs in a way that matters (never silently "fix" an
 * operator's stream). Checked against nats-server 2.9 (Debian) and 2.10+.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly storage: 'file' | 'memory';
  /** 0 = unlimited. */
  readonly maxAgeSeconds: number;
  /** -1 = unlimited. */
  readonly maxBytes: number;
  /** JetStream de-duplication window for `Nats-Msg-Id`. */
  readonly duplicateWindowSeconds: number;
  readonly replicas: number;
}

export class StreamConfigConflictError extends Error {
  override readonly name = 'StreamConfigConflictError';
  constructor(
    readonly stream: string,
    readonly differences: readonly string[],
  ) {
    super(
      `stream ${stream} exists with a different configuration:\n${differences.map((d) => `  - ${d}`).join('\n')}\n` +
        'Change the configuration to match, or update the stream deliberately (nats stream edit), then restart.',
    );
  }
}

const NANOS_PER_SECOND = 1_000_000_000;

function desiredConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    storage: spec.storage === 'file' ? StorageType.File : StorageType.Memory,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: spec.maxAgeSeconds * NANOS_PER_SECOND,
    max_bytes: spec.maxBytes,
    duplicate_window: spec.duplicateWindowSeconds * NANOS_PER_SECOND,
    num_replicas: spec.replicas,
  };
}

/** The differences between an existing stream's config and the spec, in words. */
export function streamDifferences(existing: StreamConfig, spec: StreamSpec): string[] {
  const want = desiredConfig(spec);
  const out: string[] = [];
  const sameSubjects = [...existing.subjects].sort().join(',') === [...(want.subjects ?? [])].sort().join(',');
  if (!sameSubjects) out.push(`subjects: stream has [${existing.subjects.join(', ')}], config wants [${spec.subjects.join(', ')}]`);
  if (existing.storage !== want.storage) out.push(`storage: stream has ${existing.storage}, config wants ${want.storage}`);
  if (existing.max_age !== want.max_age) out.push(`max age: stream has ${existing.max_age / NANOS_PER_SECOND} s, config wants ${spec.maxAgeSeconds} s`);
  if (existing.max_bytes !== want.max_bytes) out.push(`max bytes: stream has ${existing.max_bytes}, config wants ${spec.maxBytes}`);
  if (existing.duplicate_window !== want.duplicate_window) {
    out.push(`duplicate window: stream has ${existing.duplicate_window / NANOS_PER_SECOND} s, config wants ${spec.duplicateWindowSeconds} s`);
  }
  if (existing.num_replicas !== want.num_replicas) out.push(`replicas: stream has ${existing.num_replicas}, config wants ${spec.replicas}`);
  if (existing.retention !== RetentionPolicy.Limits) out.push(`retention: stream has ${existing.retention}, the product needs limits (a log it can replay)`);
  return out;
}

/** Creates the stream if missing; returns its info. Throws StreamConfigConflictError on a mismatch. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<{ info: StreamInfo; created: boolean }> {
  let existing: StreamInfo | null = null;
  try {
    existing = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (existing) {
    const differences = streamDifferences(existing.config, spec);
    if (differences.length > 0) throw new StreamConfigConflictError(spec.name, differences);
    return { info: existing, created: false };
  }
  try {
    return { info: await jsm.streams.add(desiredConfig(spec)), created: true };
  } catch (err) {
    // Another replica created it between our lookup and our add: check it like an existing one.
    if (!/already in use|exists/i.test(String(err))) throw err;
    return ensureStream(jsm, spec);
  }
}

export function isNotFound(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /not found|StreamNotFound|no message found|10037|10059/i.test(text);
}
