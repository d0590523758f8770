/**
 * A session as the control process holds it: its lease, its event ring (which outlives a worker crash),
 * the streams following it, and the failure that ended it early (the worker crashed or hung).
 */
import type { AgentError } from '../agent-error.js';
import type { SessionInfo } from '../protocol/index.js';
import { EventRing } from './event-ring.js';
import type { EventLineStream } from './event-stream.js';

export class AgentSession {
  readonly id: string;
  readonly leaseId: string;
  readonly name: string;
  readonly openedAtMs: number;
  readonly ring: EventRing;
  readonly streams = new Set<EventLineStream>();
  functionName = '';
  /** Set when the worker crashed or hung under this session: every later command fails with it. */
  failed: AgentError | undefined;

  constructor(args: { id: string; leaseId: string; name: string; openedAtMs: number; ringCapacity: number }) {
    this.id = args.id;
    this.leaseId = args.leaseId;
    this.name = args.name;
    this.openedAtMs = args.openedAtMs;
    this.ring = new EventRing(args.ringCapacity);
  }

  info(status: SessionInfo['status']): SessionInfo {
    return { sessionId: this.id, functionName: this.functionName, status, openedAtMs: this.openedAtMs };
  }

  /** Ends the ring: followers finish once they have sent what it holds. */
  end(): void {
    this.ring.close();
  }

  /** Ends every open stream now, sent or not (agent shutdown: a client that does not read must not hold it). */
  finishStreams(): void {
    for (const s of this.streams) s.finish();
    this.streams.clear();
  }
}
