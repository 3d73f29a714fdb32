// Prints a development bearer token: npm run -s token -- alice [admin|partner ...]
// Signed with JWT_SECRET (or the development default), valid for 12 hours.
const [userId, ...roles] = process.argv.slice(2);
if (!userId) {
  console.error('usage: npm run -s token -- <user id> [role ...]   e.g. npm run -s token -- alice admin');
  process.exit(2);
}
process.env.LOG_LEVEL ??= 'error'; // keep stdout to the token alone
const { mintClientToken } = await import('../../subgraphs/kit/dist/index.js');
console.log(await mintClientToken({ userId, roles }, 12 * 3600));
