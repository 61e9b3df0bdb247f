#!/usr/bin/env node
// Generates the Prisma client into src/generated/prisma (git-ignored) at install time.
// Prisma's CLI wants a schema-engine binary path even though `generate` never runs the engine, and
// it cannot download one on machines without internet access, so point it at any existing file.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let prismaCli;
try {
  prismaCli = require.resolve('prisma/build/index.js');
} catch {
  // `npm ci --omit=dev` (the Docker image) has no Prisma CLI: the image copies a generated client.
  if (existsSync('src/generated/prisma')) process.exit(0);
  console.error('prisma CLI not installed and no generated client present');
  process.exit(1);
}
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync(process.execPath, [prismaCli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
