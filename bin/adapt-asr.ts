#!/usr/bin/env node
// adapt-asr command-line entry point; everything lives in lib/cli.
import { main } from '../lib/cli/main.js';

// `adapt-asr ... | head`: the reader went away; stop quietly, as other Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
