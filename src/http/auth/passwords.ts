import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

/**
 * Password hashing with argon2id (RFC 9106) through @node-rs/argon2, with the OWASP Password Storage Cheat Sheet's
 * minimum parameters: m = 19 MiB, t = 2, p = 1 (~80 ms on this machine's cores). The result is a PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) carrying its own salt and parameters.
 */
const ARGON2ID = 2 as Algorithm; // Algorithm.Argon2id (a const enum, which isolatedModules cannot inline)
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Shortest password accepted (NIST SP 800-63B allows 8; we ask 12 for accounts that can read transcripts). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted (bounds the hashing cost of a request). */
export const MAX_PASSWORD_LENGTH = 256;

/** A few passwords that pass the length rule but are guessed first. */
const COMMON = new Set(['password1234', 'passwordpassword', '123456789012', 'qwertyuiopas', 'administrator', 'letmeinletmein', 'changemechangeme', 'iloveyou1234']);

/**
 * Why a password is too weak, or null when acceptable: 12–256 characters, at least 5 distinct characters, not a
 * run like `123456789012`, not a well-known password, and not the account's email or its local part.
 */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (new Set(password).size < 5) return 'password needs at least 5 different characters';
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || isSequence(lower)) return 'password is too easy to guess';
  if (email) {
    const e = email.trim().toLowerCase();
    if (lower === e || lower === e.split('@')[0]) return 'password must not be the email address';
  }
  return null;
}

/** True for runs of consecutive character codes, up or down (`abcdefghijkl`, `987654321098` is not a run). */
function isSequence(s: string): boolean {
  const steps = new Set<number>();
  for (let i = 1; i < s.length; i++) steps.add(s.charCodeAt(i) - s.charCodeAt(i - 1));
  return steps.size === 1 && (steps.has(1) || steps.has(-1));
}

/** The argon2id PHC string of `password`. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** True when `password` matches the PHC string; false (never throws) for a malformed hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;

/**
 * Verifies `password` against a hash of a random secret and returns false, taking as long as a real verification:
 * login calls it when the email is unknown (or the user disabled), so response time does not reveal which emails
 * have accounts (OWASP Authentication Cheat Sheet, "Authentication Responses").
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(32).toString('base64url'));
  await verifyPassword(await dummy, password);
  return false;
}
