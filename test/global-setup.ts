// Placeholder until the database helpers land: the real global set-up starts one embedded
// PostgreSQL for the whole run (see test/helpers/database.ts).
export default async function setup(): Promise<void> {}
