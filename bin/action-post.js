#!/usr/bin/env node
// GitHub Action post step (action.yml `runs.post`): deletes the cluster. Logic: src/action/post.ts.
import { loadAction } from './action-bootstrap.js';

const { runPost } = await loadAction('post');
process.exitCode = await runPost(process.env);
