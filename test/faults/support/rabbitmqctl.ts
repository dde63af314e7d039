import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'node:net';

const run = promisify(execFile);

/** Run rabbitmqctl on the local node: the real broker, faulted for real. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
  return stdout;
}

/** Whether the AMQP port accepts a TCP connection now. */
export function amqpPortOpen(port = 5672): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The broker's memory watermark as configured now, to put back after forcing an alarm. */
export async function memoryWatermark(): Promise<string> {
  const env = await rabbitmqctl('environment');
  return /\{vm_memory_high_watermark,([0-9.]+)\}/.exec(env)?.[1] ?? '0.4';
}

/** Whether the broker reports a memory alarm (publishers are blocked). */
export async function memoryAlarmOn(): Promise<boolean> {
  const out = await run('rabbitmq-diagnostics', ['-q', 'alarms'], { timeout: 60_000 });
  return /memory/i.test(out.stdout);
}
