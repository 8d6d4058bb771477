// Transfers kept in flight by a client, for tests of what happens to other
// transfers meanwhile: an upload whose data connection stays open (it has not
// ended), with its control connections and data channels closed after each
// test whatever happened.
import type net from 'node:net';
import { afterEach, expect } from 'vitest';
import { DataChannel, eventually, FtpControl, type FtpReply } from './clients.js';
import type { TestServer } from './server.js';

export interface HeldUpload {
  ctl: FtpControl;
  channel: DataChannel;
  socket: net.Socket;
}

export interface HeldClients {
  /** A fresh anonymous session (TYPE I). */
  login(): Promise<FtpControl>;
  /** An EPSV data connection on `ctl`. */
  epsv(ctl: FtpControl, keep?: boolean): Promise<DataChannel>;
  /**
   * `verb name` on a fresh session, `first` written on its data connection,
   * and `written()` true (bounded wait): the upload is in flight.
   */
  holdUpload(verb: string, name: string, first: Buffer, written: () => Promise<boolean>): Promise<HeldUpload>;
}

/** Registers an afterEach that closes every session and data channel the returned functions opened. */
export function useHeldClients(srv: TestServer): HeldClients {
  const controls: FtpControl[] = [];
  const channels: DataChannel[] = [];
  afterEach(() => {
    for (const ctl of controls.splice(0)) ctl.destroy();
    for (const channel of channels.splice(0)) channel.close();
  });
  const login = async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    controls.push(ctl);
    return ctl;
  };
  const epsv = async (ctl: FtpControl, keep = false) => {
    const channel = await DataChannel.open(ctl, 'EPSV', { keep });
    channels.push(channel);
    return channel;
  };
  const holdUpload = async (verb: string, name: string, first: Buffer, written: () => Promise<boolean>) => {
    const ctl = await login();
    const channel = await epsv(ctl);
    const prelim = await ctl.cmd(`${verb} ${name}`);
    expect(prelim.code, describeReply(prelim)).toBe(150);
    const socket = await channel.connected;
    socket.write(first);
    expect(await eventually(() => written().catch(() => false), 10_000), `${verb} ${name}: its first bytes written`).toBe(true);
    return { ctl, channel, socket };
  };
  return { login, epsv, holdUpload };
}

/** Ends a held upload with `rest` and its FIN: the final reply. */
export function finishUpload(up: HeldUpload, rest: Buffer): Promise<FtpReply> {
  up.socket.end(rest);
  return up.ctl.reply();
}

export function describeReply(r: FtpReply): string {
  return r.lines.join(' / ');
}
