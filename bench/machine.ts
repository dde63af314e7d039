/** What the run ran on, for the record in docs/BENCHMARKS.md. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Machine {
  cpus: string;
  memory: string;
  kernel: string;
  node: string;
  rabbitmq: string;
  natsServer: string;
  packages: string;
  disk: string;
}

function packageVersion(repoRoot: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function describeMachine(repoRoot: string, brokerProduct: string, natsVersion: string): Machine {
  const cpu = cpus();
  const flags = (() => {
    try {
      return /sha_ni/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? ', sha_ni' : '';
    } catch {
      return '';
    }
  })();
  const df = spawnSync('df', ['-h', '--output=source,fstype,size,avail', repoRoot], { encoding: 'utf8' });
  const pkgs = ['amqplib', 'nats', 's3rver', '@aws-sdk/lib-storage', '@aws-sdk/client-s3'].map((n) => `${n} ${packageVersion(repoRoot, n)}`).join(', ');
  return {
    cpus: `${cpu.length} × ${cpu[0]?.model.trim() ?? '?'}${flags}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    rabbitmq: brokerProduct,
    natsServer: natsVersion,
    packages: pkgs,
    disk: df.status === 0 ? diskText(df.stdout) : '?',
  };
}

/** `df --output=source,fstype,size,avail` → `ext4 on /dev/vda, 252G, 76G free`. */
function diskText(df: string): string {
  const [source, fstype, size, avail] = (df.trim().split('\n').slice(-1)[0] ?? '').split(/\s+/);
  return `${fstype ?? '?'} on ${source ?? '?'}, ${size ?? '?'}, ${avail ?? '?'} free`;
}

export const loadText = (l: number[] = loadavg()): string => l.map((x) => x.toFixed(2)).join(' ');
