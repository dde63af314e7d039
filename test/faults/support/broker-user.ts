import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * rabbitmqctl against the local node, waiting out a broker app that a colleague's fault test has
 * stopped for a moment (`stop_app`/`start_app`): users and permissions survive that, so retrying
 * is right. Arguments go through execFile, never a shell, so a password with `@:/%` stays intact.
 */
export async function ctl(...args: string[]): Promise<string> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
      return stdout;
    } catch (err) {
      const text = `${(err as { stderr?: string }).stderr ?? ''}${(err as Error).message}`;
      const transient = /app to be running|nodedown|unable to perform an operation on node|timed out/i.test(text);
      if (!transient || Date.now() > deadline) {
        // Never echo the arguments: for add_user the second one is a password.
        throw new Error(`rabbitmqctl ${args[0]} failed: ${((err as { stderr?: string }).stderr ?? '').trim()}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A RabbitMQ user of the test's own, with full rights on vhost `/`; `remove()` deletes it. */
export interface BrokerUser {
  name: string;
  password: string;
  remove(): Promise<void>;
}

/**
 * Create a dedicated user so a test authenticates with credentials nothing else on the machine
 * knows (guest/guest would prove nothing about where the credentials came from), and can find its
 * own connections by user name.
 */
export async function createBrokerUser(password: string, prefix = 'filepeer-sec'): Promise<BrokerUser> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  // The password goes in on stdin: as a command-line argument rabbitmqctl mangles non-ASCII
  // characters (a UTF-8 password never authenticates), and stdin keeps it out of `ps` too.
  await addUser(name, password);
  try {
    await ctl('set_permissions', '-p', '/', name, '.*', '.*', '.*');
  } catch (err) {
    await ctl('delete_user', name).catch(() => undefined);
    throw err;
  }
  return {
    name,
    password,
    async remove() {
      await ctl('delete_user', name).catch(() => undefined);
    },
  };
}

/** The broker's connections authenticated as `user`: Erlang pid (for close_connection) and name. */
export async function connectionsOf(user: string): Promise<Array<{ pid: string; name: string }>> {
  const out = await ctl('list_connections', '--no-table-headers', 'pid', 'name', 'user');
  return out
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((cols): cols is [string, string, string] => cols.length === 3 && cols[2] === user)
    .map(([pid, name]) => ({ pid, name }));
}

/**
 * Close `user`'s connections from the broker side, as an operator or a broker failover would, and
 * only those: other suites share this broker. Returns how many were closed.
 */
export async function closeConnectionsOf(user: string, reason: string): Promise<number> {
  const found = await connectionsOf(user);
  let closed = 0;
  for (const c of found) {
    // A connection that went away between the listing and now is not an error.
    if (await ctl('close_connection', c.pid, reason).then(() => true, () => false)) closed++;
  }
  return closed;
}

function addUser(name: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('rabbitmqctl', ['-q', 'add_user', name], { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`rabbitmqctl add_user failed: ${String(stderr).trim()}`));
      else resolve();
    });
    child.stdin?.end(`${password}\n`);
  });
}
