// Drives a walrus-go network with Mysten's TypeScript SDK (@mysten/walrus) and its WASM
// encoder (@mysten/walrus-wasm). The Go test (internal/sdkcompat) runs it with `node
// sdkcompat.mjs` and talks to it over standard input and output, one JSON object a line:
//
//	request  {"id": N, "op": "...", ...arguments}
//	answer   {"id": N, "ok": true, "result": ...} or {"id": N, "ok": false, "error": "..."}
//
// The script holds no opinion of its own about what is right: it does what the SDK does
// and reports what it saw (responses, error classes, verification results, decoded bytes)
// for the Go side to check. Logs go to standard error.
//
// Storage nodes serve TLS with a self-signed certificate over their network key, which is
// registered on chain; there is no certificate authority and no name in the certificate.
// The SDK's clients take a `fetch` option: pinnedFetch is one that accepts a node's
// connection only when its certificate's ed25519 key is the one the chain registered for
// that address, checked after the handshake and before a byte of the request is sent.

import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import tls from 'node:tls';

// The SDK's package exports only WalrusClient, which needs a Sui RPC; its storage node
// and upload relay clients and its WASM bindings are imported from their modules in the
// pinned package (see README.md).
import { StorageNodeClient } from './node_modules/@mysten/walrus/dist/storage-node/client.mjs';
import { UploadRelayClient } from './node_modules/@mysten/walrus/dist/upload-relay/client.mjs';
import { getWasmBindings } from './node_modules/@mysten/walrus/dist/wasm.mjs';
import {
	BlobMetadata,
	BlobMetadataWithId,
	IntentType,
	SliverData,
	StorageConfirmation,
} from './node_modules/@mysten/walrus/dist/utils/bcs.mjs';
import { getSourceSymbols, toPairIndex, toShardIndex } from './node_modules/@mysten/walrus/dist/utils/index.mjs';
import { bls12381_min_pk_verify, bls12381_min_pk_verify_aggregate } from '@mysten/walrus-wasm';
import { WalrusClient } from '@mysten/walrus';

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));
const log = (...args) => console.error('sdkcompat:', ...args);

function packageVersion(name) {
	const url = new URL(`./node_modules/${name}/package.json`, import.meta.url);
	return JSON.parse(readFileSync(url, 'utf8')).version;
}

// pinnedFetch returns a fetch for https URLs of the hosts in keys (host:port → 32-byte
// ed25519 public key), with the subset of fetch the SDK uses: method, headers, a byte
// body, signal; the answer is a standard Response.
function pinnedFetch(keys) {
	return async function fetch(url, init = {}) {
		const u = new URL(url);
		if (u.protocol !== 'https:') throw new TypeError(`pinnedFetch: ${u.protocol} is not https`);
		const want = keys.get(u.host);
		if (!want) throw new TypeError(`pinnedFetch: no network key for ${u.host}`);
		const signal = init.signal;
		const abortError = () => {
			const e = new Error(`request to ${u.host} aborted`);
			e.name = 'AbortError';
			return e;
		};
		if (signal?.aborted) throw abortError();
		const body = await bodyBytes(init.body);
		const socket = await new Promise((resolve, reject) => {
			const s = tls.connect({
				host: u.hostname,
				port: Number(u.port || 443),
				rejectUnauthorized: false, // replaced by the key pin below
				minVersion: 'TLSv1.3',
				ALPNProtocols: ['http/1.1'],
			});
			const onAbort = () => {
				s.destroy();
				reject(abortError());
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			s.once('error', (e) => {
				signal?.removeEventListener('abort', onAbort);
				reject(e);
			});
			s.once('secureConnect', () => {
				signal?.removeEventListener('abort', onAbort);
				const got = certificateKey(s);
				if (!got || !Buffer.from(got).equals(Buffer.from(want))) {
					s.destroy();
					reject(new Error(`pinnedFetch: ${u.host} presented a certificate that is not over its registered network key`));
					return;
				}
				resolve(s);
			});
		});
		return await new Promise((resolve, reject) => {
			const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
			if (body) headers['content-length'] = String(body.length);
			const req = http.request(
				{
					method: init.method ?? 'GET',
					host: u.hostname,
					port: u.port,
					path: u.pathname + u.search,
					headers,
					createConnection: () => socket,
				},
				(res) => {
					const chunks = [];
					res.on('data', (c) => chunks.push(c));
					res.on('error', reject);
					res.on('end', () => {
						const h = new Headers();
						for (const [k, v] of Object.entries(res.headers)) {
							for (const one of [].concat(v)) h.append(k, one);
						}
						const nullBody = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
						resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
						socket.destroy();
					});
				},
			);
			const onAbort = () => {
				req.destroy();
				reject(abortError());
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			req.on('error', reject);
			req.on('close', () => signal?.removeEventListener('abort', onAbort));
			req.end(body);
		});
	};
}

// certificateKey returns the raw ed25519 public key of the peer's certificate, or null.
function certificateKey(socket) {
	const cert = socket.getPeerX509Certificate();
	if (!cert || cert.publicKey.asymmetricKeyType !== 'ed25519') return null;
	const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
	return spki.subarray(spki.length - 32);
}

async function bodyBytes(body) {
	if (body == null) return null;
	if (typeof body === 'string') return Buffer.from(body);
	if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
	if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	if (body instanceof Blob) return Buffer.from(await body.arrayBuffer());
	throw new TypeError(`pinnedFetch: unsupported body ${Object.prototype.toString.call(body)}`);
}

// errorReport describes an error the SDK threw: its class (NotFoundError,
// BlobNotRegisteredError, ...), HTTP status and parsed error body.
function errorReport(e) {
	return { class: e?.constructor?.name ?? typeof e, status: e?.status ?? null, message: String(e?.message ?? e), body: e?.error ?? null };
}

const wasm = await getWasmBindings();
let committee = null; // set by op "committee"
let nodes = null; // StorageNodeClient
const encoded = new Map(); // blob ID → what encode produced

function member(i) {
	return committee.members[i];
}

// retry calls fn until it succeeds, until it throws an error retryable does not accept, or
// until the deadline; the SDK itself retries metadata writes on BlobNotRegisteredError.
async function retry(fn, retryable, ms = 60_000) {
	const deadline = Date.now() + ms;
	for (;;) {
		try {
			return await fn();
		} catch (e) {
			if (!retryable(e) || Date.now() > deadline) throw e;
			await new Promise((r) => setTimeout(r, 100)); // polling interval
		}
	}
}

const ops = {
	// hello reports the versions of the SDK and the WASM encoder in use.
	hello() {
		return {
			node: process.version,
			walrus: packageVersion('@mysten/walrus'),
			walrusWasm: packageVersion('@mysten/walrus-wasm'),
		};
	},

	// committee: {nShards, epoch, members: [{name, url, networkKey, blsKey, shards}]}
	// (keys in base64, as on our chain).
	committee(req) {
		committee = {
			nShards: req.nShards,
			epoch: req.epoch,
			members: req.members.map((m) => ({ ...m, networkKey: unb64(m.networkKey), blsKey: unb64(m.blsKey) })),
		};
		const keys = new Map(committee.members.map((m) => [new URL(m.url).host, m.networkKey]));
		nodes = new StorageNodeClient({ fetch: pinnedFetch(keys), timeout: 30_000 });
		return { members: committee.members.length };
	},

	// probeKey: {url, networkKey, blobId} → asks the node at url for a blob status
	// through a fetch pinned to networkKey; returns the error, if any. With a key other
	// than the node's, the connection must be refused before the request is sent.
	async probeKey(req) {
		const probe = new StorageNodeClient({ fetch: pinnedFetch(new Map([[new URL(req.url).host, unb64(req.networkKey)]])) });
		try {
			await probe.getBlobStatus({ blobId: req.blobId }, { nodeUrl: req.url });
		} catch (e) {
			return errorReport(e);
		}
		return { class: null };
	},

	// browserCORS: {blobId, pair} → what a browser running the SDK on another origin
	// needs from the first member: the preflight of the SDK's PUTs (metadata, sliver; their
	// Content-Type is not CORS-safelisted) and the CORS headers of actual answers, success
	// and error, which the browser needs to let the SDK read them.
	async browserCORS(req) {
		const m = member(0);
		const keys = new Map([[new URL(m.url).host, m.networkKey]]);
		const f = pinnedFetch(keys);
		const origin = 'https://app.example';
		const cors = (res) => ({
			status: res.status,
			allowOrigin: res.headers.get('access-control-allow-origin'),
			allowMethods: res.headers.get('access-control-allow-methods'),
			allowHeaders: res.headers.get('access-control-allow-headers'),
		});
		const base = `${m.url}/v1/blobs/${req.blobId}`;
		const preflight = async (path) =>
			cors(
				await f(base + path, {
					method: 'OPTIONS',
					headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
				}),
			);
		return {
			preflightMetadata: await preflight('/metadata'),
			preflightSliver: await preflight(`/slivers/${req.pair}/primary`),
			status: cors(await f(`${base}/status`, { headers: { Origin: origin } })),
			metadata: cors(await f(`${base}/metadata`, { headers: { Origin: origin, Accept: 'application/octet-stream' } })),
			notFound: cors(await f(`${m.url}/v1/blobs/${req.missingBlobId}/metadata`, { headers: { Origin: origin } })),
		};
	},

	// encode: {data} → the blob's ID, root hash, length and encoding, computed by
	// walrus-wasm twice (full encoding and metadata only), for the Go side to register.
	encode(req) {
		const data = unb64(req.data);
		const e = wasm.encodeBlob(committee.nShards, data);
		const m = wasm.computeMetadata(committee.nShards, data);
		if (m.blobId !== e.blobId) throw new Error(`encode gave blob ID ${e.blobId}, computeMetadata ${m.blobId}`);
		encoded.set(e.blobId, { ...e, data });
		return {
			blobId: e.blobId,
			rootHash: b64(e.rootHash),
			unencodedLength: Number(m.unencodedLength),
			encodingType: m.encodingType,
			metadata: b64(BlobMetadata.serialize(e.metadata).toBytes()),
		};
	},

	// waitRegistered: {blobId} → polls every node's blob status with the SDK until none
	// says nonexistent; returns the statuses.
	async waitRegistered(req) {
		return await Promise.all(
			committee.members.map((m) =>
				retry(
					async () => {
						const st = await nodes.getBlobStatus({ blobId: req.blobId }, { nodeUrl: m.url });
						if (st.type === 'nonexistent') throw new Error(`${m.name}: the blob is not registered yet`);
						return st;
					},
					(e) => /not registered yet/.test(e.message),
				),
			),
		);
	},

	// write: {blobId} → the SDK writes the metadata, then every primary and secondary
	// sliver of each member's shards, to each member; returns the nodes' answers.
	async write(req) {
		const e = encoded.get(req.blobId);
		if (!e) throw new Error(`blob ${req.blobId} was not encoded here`);
		const n = committee.nShards;
		return await Promise.all(
			committee.members.map(async (m) => {
				const meta = await retry(
					() => nodes.storeBlobMetadata({ blobId: req.blobId, metadata: e.metadata }, { nodeUrl: m.url }),
					(err) => err.constructor.name === 'BlobNotRegisteredError',
				);
				const slivers = [];
				for (const shard of m.shards) {
					const pair = toPairIndex(shard, req.blobId, n);
					if (toShardIndex(pair, req.blobId, n) !== shard) throw new Error(`pair ${pair} does not map back to shard ${shard}`);
					for (const [sliverType, sliver] of [
						['primary', e.primarySlivers[pair]],
						['secondary', e.secondarySlivers[pair]],
					]) {
						const res = await nodes.storeSliver({ blobId: req.blobId, sliverPairIndex: pair, sliverType, sliver }, { nodeUrl: m.url });
						slivers.push({ pair, sliverType, res });
					}
				}
				return { name: m.name, metadata: meta, slivers };
			}),
		);
	},

	// confirm: {blobId, deletable, objectId} → every member's storage confirmation, each
	// checked with walrus-wasm's BLS against the member's key on our chain and against the
	// message the SDK expects; and their aggregate (walrus-wasm), checked against the
	// signers' keys.
	async confirm(req) {
		const expected = StorageConfirmation.serialize({
			intent: IntentType.BLOB_CERT_MSG,
			epoch: committee.epoch,
			messageContents: {
				blobId: req.blobId,
				blobType: req.deletable ? { Deletable: { objectId: req.objectId } } : { Permanent: null },
			},
		}).toBase64();
		const confirmations = await Promise.all(
			committee.members.map(async (m, index) => {
				const answer = req.deletable
					? await nodes.getDeletableBlobConfirmation({ blobId: req.blobId, objectId: req.objectId }, { nodeUrl: m.url })
					: await nodes.getPermanentBlobConfirmation({ blobId: req.blobId }, { nodeUrl: m.url });
				const signed = answer?.success?.data?.signed;
				if (!signed) throw new Error(`${m.name}: no success.data.signed in ${JSON.stringify(answer)}`);
				const verified = bls12381_min_pk_verify(unb64(signed.signature), m.blsKey, unb64(signed.serializedMessage));
				return { index, name: m.name, ...signed, messageMatches: signed.serializedMessage === expected, verified };
			}),
		);
		const good = confirmations.filter((c) => c.verified && c.messageMatches);
		const cert = wasm.combineSignatures(good, good.map((c) => c.index));
		const aggregateVerified = bls12381_min_pk_verify_aggregate(
			good.map((c) => member(c.index).blsKey),
			cert.serializedMessage,
			cert.signature,
		);
		return {
			expectedMessage: expected,
			confirmations,
			certificate: { signers: cert.signers, serializedMessage: b64(cert.serializedMessage), signature: b64(cert.signature) },
			aggregateVerified,
		};
	},

	// status: {blobId} → every member's blob status as the SDK parses it.
	async status(req) {
		return await Promise.all(committee.members.map((m) => nodes.getBlobStatus({ blobId: req.blobId }, { nodeUrl: m.url })));
	},

	// read: {blobId} → from every member, with the SDK: the metadata (parsed as
	// BlobMetadataWithId), its metadata status, and both slivers of each of its shards with
	// their statuses; then walrus-wasm decodes the blob from two disjoint-as-possible sets
	// of the minimum number of primary slivers. If the blob was encoded here, the metadata
	// and every sliver are compared with the encoder's, byte for byte.
	async read(req) {
		const n = committee.nShards;
		const mine = encoded.get(req.blobId);
		const primaries = new Map(); // pair → BCS SliverData
		let unencodedLength = null;
		const perNode = await Promise.all(
			committee.members.map(async (m) => {
				const md = await nodes.getBlobMetadata({ blobId: req.blobId }, { nodeUrl: m.url });
				const mdBytes = BlobMetadata.serialize(md.metadata).toBytes();
				const withId = BlobMetadataWithId.serialize(md).toBytes();
				const report = {
					name: m.name,
					metadataBlobId: md.blobId,
					unencodedLength: Number(md.metadata.V1.unencoded_length),
					encodingType: Object.keys(md.metadata.V1.encoding_type)[0],
					hashes: md.metadata.V1.hashes.length,
					metadata: b64(mdBytes),
					metadataWithIdBytes: withId.length,
					metadataStatus: await nodes.getMetadataStatus({ blobId: req.blobId }, { nodeUrl: m.url }),
					metadataEqualsEncoded: mine ? Buffer.from(mdBytes).equals(Buffer.from(BlobMetadata.serialize(mine.metadata).toBytes())) : null,
					slivers: [],
				};
				unencodedLength = report.unencodedLength;
				for (const shard of m.shards) {
					const pair = toPairIndex(shard, req.blobId, n);
					for (const sliverType of ['primary', 'secondary']) {
						const bytes = await nodes.getSliver({ blobId: req.blobId, sliverPairIndex: pair, sliverType }, { nodeUrl: m.url });
						const parsed = SliverData.parse(bytes);
						const status = await nodes.getSliverStatus({ blobId: req.blobId, sliverPairIndex: pair, sliverType }, { nodeUrl: m.url });
						const want = mine && (sliverType === 'primary' ? mine.primarySlivers[pair] : mine.secondarySlivers[pair]);
						report.slivers.push({
							pair,
							sliverType,
							index: parsed.index,
							symbolSize: parsed.symbols.symbol_size,
							bytes: bytes.length,
							status,
							equalsEncoded: mine ? Buffer.from(bytes).equals(Buffer.from(want)) : null,
						});
						if (sliverType === 'primary') primaries.set(pair, bytes);
					}
				}
				return report;
			}),
		);
		const k = getSourceSymbols(n).primarySymbols;
		const pairs = [...primaries.keys()].sort((a, b) => a - b);
		if (pairs.length < k) throw new Error(`${pairs.length} primary slivers, ${k} needed`);
		const decodings = [];
		for (const chosen of [pairs.slice(0, k), pairs.slice(pairs.length - k)]) {
			const data = wasm.decodePrimarySlivers(req.blobId, n, unencodedLength, chosen.map((p) => primaries.get(p)));
			decodings.push({
				pairs: chosen,
				data: b64(data),
				blobIdOfDecoded: wasm.computeMetadata(n, data).blobId,
			});
		}
		return { nodes: perNode, decodings };
	},

	// expectError: {what: "metadata"|"sliver"|"confirmation"|"metadataWrite", blobId,
	// pair} → the SDK's error for a request to the first member that must fail.
	async expectError(req) {
		const m = member(0);
		const o = { nodeUrl: m.url };
		const e = encoded.get(req.blobId);
		try {
			switch (req.what) {
				case 'metadata':
					await nodes.getBlobMetadata({ blobId: req.blobId }, o);
					break;
				case 'sliver':
					await nodes.getSliver({ blobId: req.blobId, sliverPairIndex: req.pair, sliverType: 'primary' }, o);
					break;
				case 'confirmation':
					await nodes.getPermanentBlobConfirmation({ blobId: req.blobId }, o);
					break;
				case 'metadataWrite':
					await nodes.storeBlobMetadata({ blobId: req.blobId, metadata: e.metadata }, o);
					break;
				default:
					throw new Error(`unknown request kind ${req.what}`);
			}
		} catch (err) {
			return errorReport(err);
		}
		return { class: null };
	},

	// tipMemo: {url, blobId} → the relay's tip configuration as the SDK reads it, a fresh
	// nonce, and the memo the SDK puts in a tip transaction for this blob and nonce
	// (WalrusClient.addAuthPayload: SHA-256 of the blob, SHA-256 of the nonce, the length
	// as BCS u64), for the Go side to pay the tip on our chain.
	async tipMemo(req) {
		const e = encoded.get(req.blobId);
		if (!e) throw new Error(`blob ${req.blobId} was not encoded here`);
		const tipConfig = await new UploadRelayClient({ host: req.url }).tipConfig();
		const nonce = crypto.getRandomValues(new Uint8Array(32));
		const blobDigest = new Uint8Array(await crypto.subtle.digest('SHA-256', e.data));
		let memo = null;
		// addAuthPayload uses no state of the client: it adds the memo to a transaction as a
		// pure argument, which this stand-in for a Sui transaction records.
		await WalrusClient.prototype.addAuthPayload.call(null, { size: e.data.length, blobDigest, nonce })({
			pure: (bytes) => {
				memo = bytes;
			},
		});
		return { tipConfig, nonce: b64(nonce), memo: b64(memo) };
	},

	// relay: {url, blobId, deletable, objectId[, nonce, txDigest]} → the SDK's
	// UploadRelayClient reads the relay's tip configuration and sends it the blob encoded
	// here (its unencoded bytes), with the tip transaction's digest and the nonce if given;
	// the relay answers with a confirmation certificate, returned as the SDK parsed it, with
	// whether walrus-wasm verifies its aggregate signature against the signers' keys and
	// whether its message is the one the SDK expects.
	async relay(req) {
		const e = encoded.get(req.blobId);
		if (!e) throw new Error(`blob ${req.blobId} was not encoded here`);
		const client = new UploadRelayClient({ host: req.url, timeout: 120_000 });
		const tipConfig = await client.tipConfig();
		const res = await client.writeBlob({
			blobId: req.blobId,
			blob: e.data,
			deletable: req.deletable,
			blobObjectId: req.objectId,
			requiresTip: !!req.txDigest,
			nonce: req.nonce ? unb64(req.nonce) : undefined,
			txDigest: req.txDigest,
			encodingType: 'RS2',
		});
		const cert = res.certificate;
		const expected = StorageConfirmation.serialize({
			intent: IntentType.BLOB_CERT_MSG,
			epoch: committee.epoch,
			messageContents: {
				blobId: req.blobId,
				blobType: req.deletable ? { Deletable: { objectId: req.objectId } } : { Permanent: null },
			},
		}).toBytes();
		return {
			tipConfig,
			blobId: res.blobId,
			certificate: { signers: cert.signers, serializedMessage: b64(cert.serializedMessage), signature: b64(cert.signature) },
			messageMatches: Buffer.from(cert.serializedMessage).equals(Buffer.from(expected)),
			verified: bls12381_min_pk_verify_aggregate(
				cert.signers.map((i) => member(i).blsKey),
				cert.serializedMessage,
				cert.signature,
			),
		};
	},
};

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
	if (!line.trim()) continue;
	let req;
	try {
		req = JSON.parse(line);
	} catch (e) {
		process.stdout.write(JSON.stringify({ id: null, ok: false, error: `bad request: ${e.message}` }) + '\n');
		continue;
	}
	let answer;
	try {
		const fn = ops[req.op];
		if (!fn) throw new Error(`unknown op ${req.op}`);
		answer = { id: req.id, ok: true, result: await fn(req) };
	} catch (e) {
		log(req.op, 'failed:', e?.stack ?? e);
		answer = { id: req.id, ok: false, error: JSON.stringify(errorReport(e)) };
	}
	process.stdout.write(JSON.stringify(answer, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
}
