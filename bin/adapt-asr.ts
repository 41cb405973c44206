#!/usr/bin/env node
// adapt-asr command-line entry point; everything lives in lib/cli.
import { main } from '../lib/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
