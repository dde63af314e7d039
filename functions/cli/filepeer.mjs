#!/usr/bin/env node
// The `filepeer` command (package.json "bin"): plain JavaScript so that node can start it without a
// build step. It registers tsx, installed by `npm ci`, and hands over to the TypeScript entry point.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
