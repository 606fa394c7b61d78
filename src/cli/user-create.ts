import { loadConfig } from '../config';
import { runMain } from '../process-lifecycle';
import { createDb, migrateLatest } from '../db/knex';
import { ensureDatabase } from '../db/setup';
import { DuplicateEmailError } from '../db/users';
import { emailSchema, roleSchema } from '../http/api/account-schemas';
import { Accounts } from '../http/auth/accounts';
import { passwordProblem } from '../http/auth/passwords';
import { parseArgs } from './args';
import { readPassword } from './password-input';

const USAGE = 'usage: npm run user:create -- --email <email> --role viewer|supervisor|admin   (password on stdin, or prompted)';

/**
 * `npm run user:create -- --email E --role R`: creates a user (e.g. the first admin). The password is read from
 * stdin when piped, else prompted twice without echo; it must pass the password policy (≥ 12 characters, not
 * trivial). Creates the database and applies migrations first if needed. Prints `created user <id> (<email>, <role>)`
 * — never the password. Audited as `user.create` by `{ kind: 'bootstrap', id: 'cli' }`. Exits 1 with a message on a
 * bad email, role or password, or when the email exists.
 */
async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { email: 'string', role: 'string' });
  const email = emailSchema.safeParse(args.email ?? '');
  const role = roleSchema.safeParse(args.role ?? '');
  if (!args.email || !email.success) throw new Error(`--email: ${args.email ? 'not an email address' : 'required'}\n${USAGE}`);
  if (!role.success) throw new Error(`--role: must be viewer, supervisor or admin\n${USAGE}`);
  const password = await readPassword({ prompt: `Password for ${email.data}: `, confirm: 'Repeat it: ' });
  const problem = passwordProblem(password, email.data);
  if (problem) throw new Error(`refused: ${problem}`);

  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, { min: 0, max: 2 });
  try {
    await migrateLatest(db);
    const user = await new Accounts(db).createUser({ email: email.data, password, role: role.data }, { kind: 'bootstrap', id: 'cli', label: 'npm run user:create' });
    console.log(`created user ${user.id} (${user.email}, ${user.role})`);
  } catch (err) {
    if (err instanceof DuplicateEmailError) throw new Error(`refused: ${err.message}`);
    throw err;
  } finally {
    await db.destroy();
  }
}

runMain(main);
