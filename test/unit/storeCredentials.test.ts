import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { accountKeyProblem, credentialPairs, endpointProblem, isAzureStore, parseCredentials, secretKey } from '../../src/extension/storeCredentials';
import { storeProblem } from '../../src/extension/storeProblem';
import { storeOf, shownUri } from '../../src/core/databaseUri';

test('storeOf: credentials are kept per store (scheme and bucket), never for a local folder', () => {
  assert.equal(storeOf('s3://Bucket-1/team/db'), 's3://Bucket-1');
  assert.equal(storeOf('S3://b'), 's3://b');
  assert.equal(storeOf('s3://key:secret@b/p'), 's3://b', 'user info is not part of the key');
  assert.equal(storeOf('gs://g/p'), 'gs://g');
  assert.equal(storeOf('/data/lance'), undefined);
  assert.equal(storeOf('http://example.com/x'), undefined);
  assert.equal(secretKey('s3://b'), 'patchlens.storage:s3://b');
  assert.equal(shownUri('s3://key:secret@b/p?x=1'), 's3://b/p');
});

test('credentialPairs: object_store option names; http endpoints allowed explicitly', () => {
  assert.deepEqual(credentialPairs({ accessKeyId: 'AK', secretAccessKey: 'SK', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000/' }), [
    'aws_access_key_id=AK',
    'aws_secret_access_key=SK',
    'region=eu-west-1',
    'endpoint=http://127.0.0.1:9000',
    'allow_http=true',
  ]);
  assert.deepEqual(credentialPairs({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'T', endpoint: 'https://s3.example.com' }), [
    'aws_access_key_id=AK',
    'aws_secret_access_key=SK',
    'aws_session_token=T',
    'endpoint=https://s3.example.com',
  ]);
});

test('Azure: an account name and key a store (az://container); the blob endpoint given for Azurite or another cloud', () => {
  assert.equal(storeOf('az://box/team/db'), 'az://box');
  assert.ok(isAzureStore('az://box') && isAzureStore('abfss://c') && !isAzureStore('s3://b') && !isAzureStore('gs://g'));
  const kept = { accountName: 'devstoreaccount1', accountKey: 'a2V5', endpoint: 'http://127.0.0.1:10000/devstoreaccount1/' };
  assert.deepEqual(parseCredentials(JSON.stringify(kept)), kept);
  assert.deepEqual(parseCredentials(JSON.stringify({ accountName: 'acct', accountKey: 'a2V5', endpoint: '' })), { accountName: 'acct', accountKey: 'a2V5' });
  assert.equal(parseCredentials(JSON.stringify({ accountName: 'acct' })), undefined);
  assert.deepEqual(credentialPairs(kept), [
    'azure_storage_account_name=devstoreaccount1',
    'azure_storage_account_key=a2V5',
    'azure_storage_endpoint=http://127.0.0.1:10000/devstoreaccount1',
    'allow_http=true',
  ]);
  assert.deepEqual(credentialPairs({ accountName: 'acct', accountKey: 'a2V5' }), ['azure_storage_account_name=acct', 'azure_storage_account_key=a2V5']);
  // object_store decodes the key as base64 before any request
  assert.equal(accountKeyProblem('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='), undefined);
  assert.match(accountKeyProblem('')!, /required/);
  assert.match(accountKeyProblem('not base64!')!, /base64/);
  assert.match(accountKeyProblem('abc')!, /base64/);
});

test('parseCredentials: what secret storage gives back; anything malformed is none', () => {
  assert.deepEqual(parseCredentials(JSON.stringify({ accessKeyId: 'AK', secretAccessKey: 'SK', region: '', endpoint: 'http://h:1' })), {
    accessKeyId: 'AK',
    secretAccessKey: 'SK',
    endpoint: 'http://h:1',
  });
  assert.equal(parseCredentials(undefined), undefined);
  assert.equal(parseCredentials('{nope'), undefined);
  assert.equal(parseCredentials(JSON.stringify({ accessKeyId: 'AK' })), undefined);
});

test('endpointProblem: empty (AWS) or an http(s) URL', () => {
  assert.equal(endpointProblem(''), undefined);
  assert.equal(endpointProblem('http://127.0.0.1:9000'), undefined);
  assert.match(endpointProblem('ftp://x')!, /http:\/\/ or https:\/\//);
  assert.match(endpointProblem('not a url')!, /must be a URL/);
});

test("storeProblem: the engine's one line without the CLI hint, and its kind", () => {
  const refused =
    'cannot open the Lance database s3://b/db: the store refused the credentials. Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --storage-option)';
  assert.deepEqual(storeProblem(refused), { kind: 'credentials', line: 'cannot open the Lance database s3://b/db: the store refused the credentials' });
  const down =
    'cannot open the Lance database s3://b/db: the store cannot be reached (endpoint http://127.0.0.1:1). Check AWS_ENDPOINT_URL, the network, or --storage-option endpoint=…';
  assert.deepEqual(storeProblem(down), {
    kind: 'unreachable',
    line: 'cannot open the Lance database s3://b/db: the store cannot be reached (endpoint http://127.0.0.1:1)',
  });
  const azure =
    'cannot open the Lance database az://box/db: the store refused the credentials. Check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or --storage-option)';
  assert.deepEqual(storeProblem(azure), { kind: 'credentials', line: 'cannot open the Lance database az://box/db: the store refused the credentials' });
  assert.equal(storeProblem('the database is damaged'), undefined);
});
