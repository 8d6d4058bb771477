// One probe's FTP session and its data rounds: log in, learn the control
// peer the server sees (STAT), then active rounds (listen on our own address,
// PORT/EPRT as the probe sends it, optionally ESTA, RETR/LIST, read) and
// passive rounds (PASV/EPSV as the probe sends it, connect, optionally ESTP,
// RETR/LIST, read), and third-party rounds (a PORT/EPRT naming another
// address, then STAT: where the server would connect). Each round's
// observations go to verdict.ts.
import type { FtpReply } from '../probe.js';
import { Control, replyText } from './control.js';
import { ActiveListener, connectData, type Received, receiveFrom } from './data.js';
import {
  type Endpoint,
  eprtArgument,
  parseEpsvReply,
  parseExtendedAddress,
  parsePasvReply,
  parseStatActiveTarget,
  parseStatPeer,
  portArgument,
} from './endpoints.js';
import type { RoundObservation, SessionView, ThirdPartyObservation } from './verdict.js';

export interface SessionOptions {
  host: string;
  user: string;
  pass: string;
  /** RETR this file; LIST when undefined. */
  file?: string | undefined;
  /** Any single wait for the server. */
  timeoutMs: number;
  /** The address a 227 must carry (default: the address dialed). */
  expectPasvAddress?: string | undefined;
  /** The server lists ESTA/ESTP in FEAT: ask them. */
  esta: boolean;
  estp: boolean;
  expectBytes: { size?: number | undefined; sha256?: string | undefined };
}

const short = (r: FtpReply): { code: number; text: string } => ({ code: r.code, text: replyText(r) });

/** The argument of `verb` (PORT or EPRT, any case) naming `e`. */
const argument = (verb: string, e: Endpoint): string => (verb.toUpperCase() === 'EPRT' ? eprtArgument(e) : portArgument(e));

export class ProbeSession {
  private constructor(
    readonly ctl: Control,
    readonly view: SessionView,
    private readonly o: SessionOptions,
  ) {}

  /** Connects to `port`, logs in, TYPE I, STAT. Throws with the reason on any refusal. */
  static async open(o: SessionOptions, port: number): Promise<ProbeSession> {
    const ctl = await Control.connect(o.host, port, o.timeoutMs);
    try {
      const hello = await ctl.reply(o.timeoutMs);
      if (hello.code !== 220) throw new Error(`greeting ${replyText(hello)}`);
      let r = await ctl.cmd(`USER ${o.user}`, o.timeoutMs);
      if (r.code === 331) r = await ctl.cmd(`PASS ${o.pass}`, o.timeoutMs);
      if (r.code !== 230 && r.code !== 202) throw new Error(`login refused: ${replyText(r)}`);
      r = await ctl.cmd('TYPE I', o.timeoutMs);
      if (r.code !== 200) throw new Error(`TYPE I refused: ${replyText(r)}`);
      const stat = await ctl.cmd('STAT', o.timeoutMs);
      const seenAs = stat.code === 211 || stat.code === 212 ? parseStatPeer(stat.lines) : null;
      return new ProbeSession(ctl, { own: ctl.localAddress, server: ctl.remoteAddress, seenAs }, o);
    } catch (e) {
      ctl.close();
      throw e;
    }
  }

  get timeoutMs(): number {
    return this.o.timeoutMs;
  }

  /** PORT on IPv4, EPRT on IPv6 (PORT carries IPv4 only). */
  get activeVerb(): 'PORT' | 'EPRT' {
    return this.ctl.ipv6 ? 'EPRT' : 'PORT';
  }

  /** PASV on IPv4, EPSV on IPv6 (RFC 2428: a 227 has no room for an IPv6 address). */
  get passiveVerb(): 'PASV' | 'EPSV' {
    return this.ctl.ipv6 ? 'EPSV' : 'PASV';
  }

  get transferCommand(): string {
    return this.o.file !== undefined ? `RETR ${this.o.file}` : 'LIST';
  }

  /** A listener on our own control address: what a PORT names before any NAT. */
  listen(): Promise<ActiveListener> {
    return ActiveListener.open(this.ctl.localAddress);
  }

  /** The argument `verb` (PORT or EPRT, any case) takes for listener `l`. */
  portArg(l: ActiveListener, verb: string): string {
    return argument(verb, l.endpoint);
  }

  /**
   * A third-party round: `verb` naming `address` and the port of a listener
   * on our own address (a port of ours, so the command names nobody else's
   * service here, and a connection a middlebox maps back to us arrives
   * there). Accepted, STAT says where the server connects. Nothing connects
   * to `address`: it is only written into the command.
   */
  async thirdPartyRound(address: string, verb: 'PORT' | 'EPRT'): Promise<ThirdPartyObservation> {
    const o = this.o;
    const l = await this.listen();
    const obs: ThirdPartyObservation = { verb, named: { host: address, port: l.endpoint.port } };
    try {
      const pr = await this.ctl.cmd(`${verb} ${argument(verb, obs.named)}`, o.timeoutMs);
      obs.portReply = short(pr);
      if (pr.code >= 400) return obs;
      const stat = await this.ctl.cmd('STAT', o.timeoutMs);
      obs.target = stat.code === 211 || stat.code === 212 ? parseStatActiveTarget(stat.lines) : null;
      obs.dataPeer = l.firstPeer;
    } catch (e) {
      obs.controlError = (e as Error).message;
    } finally {
      l.close();
    }
    return obs;
  }

  /**
   * The active round after its PORT/EPRT went out (by `sendPort`, whose reply
   * ends it): ESTA if offered, the transfer on `listener`, `earlier`
   * listeners watched for a connection that should not come.
   */
  async activeRound(
    listener: ActiveListener,
    sendPort: () => Promise<FtpReply>,
    earlier: readonly ActiveListener[] = [],
    pauseMs = 0,
  ): Promise<{ obs: RoundObservation; refused: Endpoint | null }> {
    const o = this.o;
    const obs: RoundObservation = { expectBytes: o.expectBytes };
    let refused: Endpoint | null = null;
    const arrival = listener.receive(o.timeoutMs + pauseMs).then(
      (rec) => rec,
      (e: unknown) => e as Error,
    );
    try {
      const pr = await sendPort();
      obs.portReply = short(pr);
      if (pr.code >= 400) {
        refused = parseExtendedAddress(replyText(pr));
        obs.dataPeer = null;
        return { obs, refused };
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      if (o.esta) {
        const est = await this.ctl.cmd('ESTA', o.timeoutMs);
        obs.esta = est.code === 225 ? parseExtendedAddress(replyText(est)) : null;
      }
      const first = await this.ctl.cmd(this.transferCommand, o.timeoutMs);
      if (first.code >= 400) {
        obs.transferReply = short(first);
        obs.dataPeer = null;
        obs.earlierListenerUsed = earlier.some((l) => l.connected);
        return { obs, refused };
      }
      const rec = await arrival;
      obs.earlierListenerUsed = earlier.some((l) => l.connected);
      if (rec instanceof Error) {
        obs.dataPeer = null;
        // The server may still be trying; its reply says how it ended, when it comes in time.
        const end = await this.ctl.reply(o.timeoutMs).catch(() => null);
        if (end) obs.transferReply = short(end);
        return { obs, refused };
      }
      obs.dataPeer = rec.peer.host;
      obs.received = { bytes: rec.bytes, sha256: rec.sha256 };
      obs.transferReply = short(await this.ctl.reply(o.timeoutMs));
    } catch (e) {
      obs.controlError = (e as Error).message;
      obs.earlierListenerUsed ??= earlier.some((l) => l.connected);
      obs.dataPeer ??= null;
    } finally {
      listener.close();
      for (const l of earlier) l.close();
    }
    return { obs, refused };
  }

  /**
   * The passive round after `sendPasv` (whose reply names the port), after
   * `pauseMs`: connect, ESTP if offered, the transfer.
   */
  async passiveRound(sendPasv: () => Promise<FtpReply>, pauseMs = 0): Promise<RoundObservation> {
    const o = this.o;
    const obs: RoundObservation = { expectBytes: o.expectBytes };
    let sock: Awaited<ReturnType<typeof connectData>>['sock'] | undefined;
    try {
      const pr = await sendPasv();
      obs.pasvReply = short(pr);
      if (pr.code !== 227 && pr.code !== 229) return obs;
      const expected = o.expectPasvAddress ?? this.ctl.remoteAddress;
      let port: number | null;
      if (pr.code === 227) {
        const a = parsePasvReply(replyText(pr));
        obs.announced = a?.host ?? '(none)';
        obs.expected = expected;
        port = a?.port ?? null;
      } else {
        obs.announced = null;
        obs.expected = expected;
        port = parseEpsvReply(replyText(pr));
      }
      if (port === null) {
        obs.connectError = `no port in ${replyText(pr)}`;
        return obs;
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      // The address dialed (or the one expected), never one a reply names: a
      // probe connects only where the user pointed it.
      const target = pr.code === 227 ? expected : this.ctl.remoteAddress;
      try {
        sock = (await connectData(target, port, o.timeoutMs)).sock;
      } catch (e) {
        obs.connectError = (e as Error).message;
        return obs;
      }
      if (o.estp) {
        const est = await this.ctl.cmd('ESTP', o.timeoutMs);
        obs.estp = est.code === 225 ? parseExtendedAddress(replyText(est)) : null;
      }
      const first = await this.ctl.cmd(this.transferCommand, o.timeoutMs);
      if (first.code >= 400) {
        obs.transferReply = short(first);
        return obs;
      }
      const rec: Received = await receiveFrom(sock, o.timeoutMs);
      obs.received = { bytes: rec.bytes, sha256: rec.sha256 };
      obs.transferReply = short(await this.ctl.reply(o.timeoutMs));
    } catch (e) {
      obs.controlError = (e as Error).message;
    } finally {
      sock?.destroy();
    }
    return obs;
  }

  async close(): Promise<void> {
    await this.ctl.quit(Math.min(this.o.timeoutMs, 2000));
  }
}
