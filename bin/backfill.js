#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (`npm install` builds it through the `prepare` script).
require('../dist/src/cli/main.js');
