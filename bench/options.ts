/**
 * `npm run bench` — filepeer beside the systems it should beat, side by side in one run.
 *
 *   npm run bench                 the full run: 64 MiB, 1 GiB and 4 GiB (10–12 minutes on 2 cores)
 *   npm run bench -- --quick      64 MiB only (about 2 minutes)
 *   npm run bench:setup           installs nats-server with apt when it is missing
 *
 * Per file size, one after another (each role a process of its own):
 *   raw        raw amqplib, the broker path's limit (persistent, confirms, manual ack), default chunk
 *   filepeer   file → broker → directory, default chunk
 *   nats       NATS JetStream Object Store put, then get to a verified file
 *   s3-direct  @aws-sdk/lib-storage Upload to s3rver; then filepeer-s3: S3 → broker → S3
 *   16k        raw, filepeer and Nanite-style (JSON + base64) at 16 KiB chunks
 * and once: the chunk-size sweep (raw and filepeer), raw+durable, fan-out to 2 and 4 receiver
 * groups, and 2,000 files of 4 KiB.
 *
 * Options (flag or environment variable):
 *   --quick                                  64 MiB only, every scenario at that size
 *   --sizes 64MiB,1GiB,4GiB      BENCH_SIZES  core sizes (raw, filepeer, nats, s3)
 *   --chunk 1MiB                 BENCH_CHUNK  filepeer's chunk size for the core cases (default: the library's)
 *   --sizes-16k 64MiB,1GiB                    sizes of the 16 KiB cases (raw, filepeer, nanite)
 *   --sweep-size 1GiB --sweep-chunks 256KiB,1MiB,4MiB   chunk-size sweep (raw and filepeer)
 *   --durable-size 1GiB                       raw+durable at the default chunk
 *   --fanout-size 1GiB --fanout-groups 2,4    fan-out (1 group = the filepeer case of that size)
 *   --small-files 2000 --small-file-size 4KiB --small-concurrency 32
 *   --only a,b / --skip a,b                   scenarios: core, nats, s3, 16k, sweep, durable, fanout, small
 *   --url amqp://…               FILEPEER_AMQP_URL / AMQP_URL
 *   --pause-ms 2000                           pause between cases (the broker settles)
 *   --cpu-prof DIR                            --cpu-prof for every child, into DIR
 *   --node-args "--trace-gc"                  extra node options for the children
 *   --tsx                                     run the children's sources under tsx (default: esbuild bundles)
 *   --nodelay                                 experiment: Nagle off on the children's sockets (bench/tools/nodelay.mjs)
 *   --sync-bytes N / --read-ahead-bytes N     receiver tuning (default: the library's)
 *   --json FILE                               every measurement as JSON
 *   --docs / --no-docs                        write docs/BENCHMARKS.md (default: yes for the full run)
 *
 * MB/s is 10^6 bytes per second; RSS is peak resident set size in MiB; CPU s/GiB counts every
 * process of the case (the broker and nats-server/s3rver included) per GiB delivered.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { amqpUrlFromEnv } from '../shared/config/env.js';
import { MAX_CHUNK_SIZE } from '../shared/protocol/constants.js';
import { formatSize, parseFlags, parseSize } from './lib.js';

export const SCENARIO_GROUPS = ['core', 'nats', 's3', '16k', 'sweep', 'durable', 'fanout', 'small'] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

export interface Options {
  quick: boolean;
  sizes: number[];
  chunk: number | undefined;
  sizes16k: number[];
  sweepSize: number;
  sweepChunks: number[];
  durableSize: number;
  fanoutSize: number;
  fanoutGroups: number[];
  smallFiles: number;
  smallFileSize: number;
  smallConcurrency: number;
  groups: Set<ScenarioGroup>;
  url: string;
  pauseMs: number;
  cpuProfDir: string | undefined;
  nodeArgs: string[];
  useTsx: boolean;
  receiverArgs: string[];
  json: string | undefined;
  writeDocs: boolean;
  /** The command line, for the record. */
  command: string;
}

const KNOWN = [
  'quick', 'sizes', 'chunk', 'sizes-16k', 'sweep-size', 'sweep-chunks', 'durable-size', 'fanout-size', 'fanout-groups',
  'small-files', 'small-file-size', 'small-concurrency', 'only', 'skip', 'url', 'pause-ms', 'cpu-prof', 'node-args',
  'tsx', 'nodelay', 'sync-bytes', 'read-ahead-bytes', 'json', 'docs', 'no-docs', 'help',
];

const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

export function parseOptions(argv: string[]): Options {
  const flags = parseFlags(argv);
  for (const name of flags.keys()) {
    if (!KNOWN.includes(name)) throw new Error(`unknown option --${name} (known: ${KNOWN.map((k) => `--${k}`).join(' ')})`);
  }
  if (flags.has('help')) {
    const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    process.stdout.write(`${/\/\*\*([\s\S]*?)\*\//.exec(text)?.[1]?.replace(/^ \* ?/gm, '') ?? ''}\n`);
    process.exit(0);
  }
  const quick = flags.has('quick');
  const get = (flag: string, env?: string): string | undefined => flags.get(flag) ?? (env ? process.env[env] : undefined);
  const sizes = list(get('sizes', 'BENCH_SIZES') ?? (quick ? '64MiB' : '64MiB,1GiB,4GiB')).map(parseSize);
  const small = Math.min(...sizes);
  const mid = sizes.includes(parseSize('1GiB')) ? parseSize('1GiB') : small;
  const chunkText = get('chunk', 'BENCH_CHUNK');
  const chunk = chunkText === undefined ? undefined : parseSize(chunkText);
  const sweepChunks = list(get('sweep-chunks') ?? '256KiB,1MiB,4MiB').map(parseSize);
  for (const c of [...sweepChunks, ...(chunk ? [chunk] : [])]) {
    if (c > MAX_CHUNK_SIZE) throw new Error(`chunk ${formatSize(c)} exceeds filepeer's maximum ${formatSize(MAX_CHUNK_SIZE)}`);
  }
  const only = flags.get('only');
  const skip = new Set(list(flags.get('skip') ?? ''));
  const groups = new Set<ScenarioGroup>();
  for (const g of only ? list(only) : SCENARIO_GROUPS) {
    if (!(SCENARIO_GROUPS as readonly string[]).includes(g)) throw new Error(`unknown scenario ${g} (${SCENARIO_GROUPS.join(', ')})`);
    if (!skip.has(g)) groups.add(g as ScenarioGroup);
  }
  const receiverArgs: string[] = [];
  for (const knob of ['sync-bytes', 'read-ahead-bytes']) {
    const v = flags.get(knob);
    if (v !== undefined) receiverArgs.push(`--${knob}`, String(parseSize(v)));
  }
  return {
    quick,
    sizes,
    chunk,
    sizes16k: list(get('sizes-16k') ?? (quick ? '64MiB' : '64MiB,1GiB')).map(parseSize),
    sweepSize: parseSize(get('sweep-size') ?? formatSize(mid)),
    sweepChunks,
    durableSize: parseSize(get('durable-size') ?? formatSize(mid)),
    fanoutSize: parseSize(get('fanout-size') ?? formatSize(mid)),
    fanoutGroups: list(get('fanout-groups') ?? '2,4').map(Number),
    smallFiles: Number(get('small-files') ?? 2000),
    smallFileSize: parseSize(get('small-file-size') ?? '4KiB'),
    smallConcurrency: Number(get('small-concurrency') ?? 32),
    groups,
    url: flags.get('url') ?? amqpUrlFromEnv(),
    pauseMs: Number(get('pause-ms', 'BENCH_PAUSE_MS') ?? 2000),
    cpuProfDir: get('cpu-prof', 'BENCH_CPU_PROF'),
    nodeArgs: [
      ...(flags.has('nodelay') ? ['--import', pathToFileURL(fileURLToPath(new URL('./tools/nodelay.mjs', import.meta.url))).href] : []),
      ...(get('node-args', 'BENCH_NODE_ARGS') ?? '').split(/\s+/).filter((a) => a.length > 0),
    ],
    useTsx: flags.has('tsx'),
    receiverArgs,
    json: get('json', 'BENCH_JSON'),
    // Only a complete full run replaces the recorded one, unless asked.
    writeDocs: flags.has('no-docs') ? false : flags.has('docs') || (!quick && !flags.has('only') && !flags.has('skip') && !flags.has('sizes') && !flags.has('nodelay')),
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  };
}
