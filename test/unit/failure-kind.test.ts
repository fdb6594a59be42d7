// A failed call's kind: the function's own failures apart from the platform's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentError, StreamCutError, WaitExpired } from '../../agent/errors.js';
import { failureKind, FAILURE_KINDS } from '../../agent/failure-kind.js';
import { ContainerRefusedError, DriverError, ImageNotFoundError, LogDestinationError } from '../../drivers/errors.js';
import { ImageRefError } from '../../drivers/image-name.js';

test('no error: the function answered an error itself, or timed out, or its caller went', () => {
  assert.equal(failureKind('error'), 'function');
  assert.equal(failureKind('timeout'), 'timeout');
  assert.equal(failureKind('cancelled'), 'cancelled');
});

test('the platform\'s failures each have their kind', () => {
  assert.equal(failureKind('error', new WaitExpired()), 'busy');
  assert.equal(failureKind('error', new AgentError('too-big-for-host', 'fn memory 400 MB is more than this server can give')), 'capacity');
  assert.equal(failureKind('error', new ImageNotFoundError('x', 'gone')), 'image');
  assert.equal(failureKind('error', new ImageRefError('UPPER', 'repository name must be lowercase')), 'image');
  assert.equal(failureKind('error', new AgentError('image-unavailable', 'x')), 'image');
  assert.equal(failureKind('error', new ContainerRefusedError(5, 'Minimum memory limit allowed is 6MB')), 'config');
  assert.equal(failureKind('error', new LogDestinationError('refused')), 'config');
  assert.equal(failureKind('error', new DriverError('connect ECONNREFUSED /var/run/docker.sock')), 'engine');
  assert.equal(failureKind('cancelled', new AgentError('shutting-down', 'Server is shutting down')), 'shutdown');
  assert.equal(failureKind('error', new TypeError('a bug')), 'internal');
});

test('the function\'s own, reported as errors', () => {
  assert.equal(failureKind('error', new AgentError('function-failed', 'x')), 'function');
  assert.equal(failureKind('error', new AgentError('init-failed', 'x')), 'init');
  assert.equal(failureKind('timeout', new AgentError('timeout', 'Timed out')), 'timeout');
  assert.equal(failureKind('timeout', new StreamCutError('Sandbox.Timedout')), 'timeout');
  assert.equal(failureKind('error', new StreamCutError('Runtime.TruncatedResponse')), 'function');
});

test('kinds are few and fixed', () => assert.equal(new Set(FAILURE_KINDS).size, FAILURE_KINDS.length));
