// Many clients whose transfers really overlap: each logs in and sets up its
// data connection (the modes taken in turn), and only once every client is
// ready (or has failed) does any of them go on to its transfer.
import { DataChannel, type DataMode, dataModes, FtpControl, withTimeout } from './clients.js';

/** One client's turn, once all are ready; its control and data connections are closed afterwards. */
export type Turn<T> = (ctl: FtpControl, channel: DataChannel, i: number) => Promise<T>;

export async function allAtOnce<T>(host: string, port: number, clients: number, turn: Turn<T>): Promise<PromiseSettledResult<T>[]> {
  const opened: FtpControl[] = [];
  let releaseAll!: () => void;
  const allReady = new Promise<void>((resolve) => (releaseAll = resolve));
  let arrived = 0;

  const one = async (i: number): Promise<T> => {
    const mode: DataMode = dataModes[i % dataModes.length] ?? 'EPSV';
    let ctl: FtpControl;
    let channel: DataChannel;
    try {
      ctl = await FtpControl.login(host, port, 60_000);
      opened.push(ctl);
      channel = await DataChannel.open(ctl, mode, { timeoutMs: 60_000 });
    } finally {
      // A client that failed counts as arrived, so that the others do not wait for it.
      if (++arrived === clients) releaseAll();
    }
    await withTimeout(allReady, 120_000, 'every client ready');
    try {
      return await turn(ctl, channel, i);
    } finally {
      channel.close();
    }
  };

  try {
    return await Promise.allSettled(Array.from({ length: clients }, (_, i) => one(i)));
  } finally {
    releaseAll();
    for (const c of opened) c.destroy();
  }
}
