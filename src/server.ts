// Wires the engine's events to connections: the EngineHandler of a server.
import type { CommandRegistry, EngineActions } from './commands/types.js';
import type { Config } from './config/settings.js';
import type { CloseReasonName, Endpoint, EngineHandler, SessionId } from './engine/engine.js';
import type { NativeStats } from './engine/native.js';
import type { Logger } from './log.js';
import { Connection, type Shared } from './session/connection.js';

/** The engine as the server drives it (the real Engine, or a fake in unit tests). */
export interface EngineControl extends EngineActions {
  address(): Endpoint;
  stats(): NativeStats;
  stop(): Promise<void>;
}

export interface ServerParts {
  config: Readonly<Config>;
  commands: CommandRegistry;
  log: Logger;
}

/** Lines one session may have waiting behind a running command. */
const maxWaitingLines = 64;
const greeting = '220 muxftpd ready\r\n';

export class Server implements EngineHandler {
  readonly engine: EngineControl;
  private readonly shared: Shared;
  private readonly connections = new Map<SessionId, Connection>();

  constructor(parts: ServerParts, makeEngine: (handler: EngineHandler) => EngineControl) {
    this.engine = makeEngine(this);
    this.shared = { ...parts, engine: this.engine, maxWaiting: maxWaitingLines };
  }

  get sessions(): number {
    return this.connections.size;
  }

  onOpen(sid: SessionId, peer: Endpoint, local: Endpoint): void {
    this.connections.set(sid, new Connection(sid, peer, local, this.shared));
    this.shared.log.debug(`session ${sid}: open from ${peer.address} port ${peer.port}`);
    this.engine.reply(sid, greeting);
  }

  onLine(sid: SessionId, line: Buffer, tooLong: boolean): void {
    const connection = this.connections.get(sid);
    if (connection === undefined) return;
    try {
      connection.line(line, tooLong);
    } catch (e) {
      // A bug must cost one session, never the process or the rest of the batch.
      this.shared.log.error(`session ${sid}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.engine.close(sid);
      connection.dropped();
    }
  }

  onDataReady(sid: SessionId, error: number): void {
    // The transfer's own result reports a failed connect; this is for the log only.
    if (error !== 0) this.shared.log.debug(`session ${sid}: data connection failed (errno ${-error})`);
  }

  onError(error: unknown): void {
    this.shared.log.error(`event handler failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  onClosed(sid: SessionId, reason: CloseReasonName): void {
    const connection = this.connections.get(sid);
    if (connection === undefined) return;
    this.connections.delete(sid);
    connection.dropped();
    this.shared.log.debug(`session ${sid}: closed (${reason})`);
  }

  /** Stops the engine; sessions it no longer reports are dropped here. */
  async close(): Promise<void> {
    await this.engine.stop();
    for (const connection of this.connections.values()) connection.dropped();
    this.connections.clear();
  }
}
