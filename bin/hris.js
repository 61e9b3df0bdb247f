#!/usr/bin/env node
// The `hris` operator CLI. Runs the TypeScript sources through tsx, so it works right after
// `npm install` without a build step.
import { register } from 'tsx/esm/api';

register();
const { runFromProcess } = await import('../src/cli/main.ts');
await runFromProcess();
