#!/usr/bin/env node
// The workspace runs TypeScript through tsx (no build step), as the API and the worker do.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.js');
