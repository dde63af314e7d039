/**
 * filepeer receiving side: subscribes a group to a domain with a DirectorySink and exits after
 * its callback has fired for one verified file.
 *
 *   node --import tsx bench/fp-receiver.ts --url … --domain … --group … --root …
 */
import { DirectorySink, Filepeer, type ReceivedFile } from '../shared/index.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const domain = required(flags, 'domain');
const group = required(flags, 'group');
const root = required(flags, 'root');
// Tuning knobs for experiments; the library's defaults when absent.
const syncBytes = flags.has('sync-bytes') ? Number(flags.get('sync-bytes')) : undefined;
const readAheadBytes = flags.has('read-ahead-bytes') ? Number(flags.get('read-ahead-bytes')) : undefined;

const peer = await Filepeer.connect({ url });
let resolveDone: (v: { at: number; file: ReceivedFile }) => void = () => undefined;
const done = new Promise<{ at: number; file: ReceivedFile }>((resolve) => (resolveDone = resolve));
const sub = await peer.subscribeToFiles(domain, { group, sink: new DirectorySink({ root, syncBytes }), readAheadBytes }, (file) => {
  resolveDone({ at: now(), file });
});
report({ event: 'ready', role: 'fp-receiver', queue: sub.queue, deadLetterQueue: sub.deadLetterQueue });
const { at, file } = await done;
await peer.close();
report({
  event: 'result',
  role: 'fp-receiver',
  callbackAt: at,
  bytes: file.size,
  chunks: file.chunks,
  sha256: file.sha256,
  location: file.location,
  stats: sub.stats,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
