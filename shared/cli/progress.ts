import cliProgress from 'cli-progress';
import { formatBytes, formatDuration } from './format.js';

export interface Progress {
  /** Bytes sent so far. */
  update(bytes: number): void;
  /** Leave the last state on screen and end the line. */
  stop(): void;
}

const WIDTH = 30;

/**
 * A progress bar (bytes, rate, ETA) on `stream` when it is a terminal, else nothing at all: a log
 * file or a pipe gets no escape codes and no carriage returns. Without a known total (stdin) it
 * shows bytes and rate only.
 */
export function progressBar(stream: NodeJS.WriteStream, total: number | undefined): Progress | undefined {
  if (!stream.isTTY) return undefined;
  const startedAt = Date.now();
  const bar = new cliProgress.SingleBar({
    stream,
    hideCursor: true,
    // cli-progress redraws at most this often, whatever the update rate (one per chunk).
    fps: 10,
    format: (_options, params) => {
      const seconds = (Date.now() - startedAt) / 1000;
      const rate = seconds > 0 ? params.value / seconds : 0;
      const done = `${formatBytes(params.value)} ${formatBytes(rate)}/s`;
      if (!total) return `sending ${done}`;
      const filled = Math.round(Math.min(1, params.progress) * WIDTH);
      const eta = rate > 0 ? (total - params.value) / rate : Number.NaN;
      const pct = `${Math.floor(params.progress * 100)}%`.padStart(4);
      return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${pct} ${formatBytes(params.value)} / ${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
    },
  });
  bar.start(total ?? 0, 0);
  return {
    update: (bytes) => bar.update(bytes),
    stop: () => bar.stop(),
  };
}
