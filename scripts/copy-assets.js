#!/usr/bin/env node
// `npm run build` compiles TypeScript only: files the code reads at run time beside itself (the
// connect page's script and styles) are copied into dist/ here.
import { cpSync } from 'node:fs';

cpSync('src/connect/assets', 'dist/connect/assets', { recursive: true });
