#!/usr/bin/env node
// GitHub Action main step (action.yml `runs.main`): creates the cluster. Logic: src/action/main.ts.
import { loadAction } from './action-bootstrap.js';

const { runMain } = await loadAction('main');
process.exitCode = await runMain(process.env);
