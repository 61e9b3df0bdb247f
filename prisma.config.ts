// Prisma CLI configuration. The gateway itself never runs the Prisma CLI at run time: migrations are
// applied by src/db/migrate.ts, and the client is generated at install (scripts/prisma-generate.js).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // Only `prisma migrate deploy` run elsewhere needs a URL; generate does not.
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/hris' },
});
