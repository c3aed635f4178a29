// genvectors.mjs writes vectors.json: quilts encoded by Mysten's TypeScript SDK
// (@mysten/walrus encodeQuilt) with blob IDs from @mysten/walrus-wasm, for the Go tests of
// package quilt. The versions are the ones pinned in internal/sdkcompat/js. Run from the
// repository root:
//
//   make quilt-vectors
//
// which runs:
//
//   tmp=$(mktemp -d)
//   cp internal/sdkcompat/js/package.json internal/sdkcompat/js/package-lock.json \
//      internal/quilt/testdata/genvectors.mjs "$tmp"
//   (cd "$tmp" && npm ci --no-audit --no-fund >/dev/null && node genvectors.mjs) \
//      > internal/quilt/testdata/vectors.json
//
// A files entry {"many": {count, len, prefix}} stands for count files named prefix0000,
// prefix0001, ... of len bytes, file i with seed i mod 97. File contents are generated, not stored: {"len": L, "seed": k} means byte i is
// (k + i*(2k+1)) mod 256; {"text": s} means the UTF-8 bytes of s.
import { createHash } from 'node:crypto';
import { encodeQuilt } from './node_modules/@mysten/walrus/dist/utils/quilts.mjs';
import { getWasmBindings } from './node_modules/@mysten/walrus/dist/wasm.mjs';
import { urlSafeBase64 } from './node_modules/@mysten/walrus/dist/utils/index.mjs';
import { QuiltPatchId } from './node_modules/@mysten/walrus/dist/utils/bcs.mjs';

const wasm = await getWasmBindings();

function contents(spec) {
	if (spec.text !== undefined) return new TextEncoder().encode(spec.text);
	const b = new Uint8Array(spec.len);
	for (let i = 0; i < spec.len; i++) b[i] = (spec.seed + i * (2 * spec.seed + 1)) % 256;
	return b;
}

function gen(len, seed) { return { len, seed }; }

// sourceSymbols returns R and C for RS2 (no safety limit).
function sourceSymbols(n) {
	const f = Math.floor((n - 1) / 3);
	return { rows: n - 2 * f, cols: n - f };
}

// many stands for count files named prefix0000, prefix0001, ... of len bytes each, file i
// generated with seed i mod 97.
function many(count, len, prefix = 'file-') {
	return [{ many: { count, len, prefix } }];
}

function expand(files) {
	return files.flatMap((f) => {
		if (!f.many) return [f];
		const out = [];
		for (let i = 0; i < f.many.count; i++) {
			out.push({ identifier: `${f.many.prefix}${String(i).padStart(4, '0')}`, data: gen(f.many.len, i % 97) });
		}
		return out;
	});
}

const cases = [];
function add(name, nShards, files) { cases.push({ name, nShards, files }); }

for (const n of [7, 10, 100, 1000]) {
	const { rows, cols } = sourceSymbols(n);
	add(`one-file-n${n}`, n, [{ identifier: 'hello.txt', data: { text: 'hello, quilt\n' } }]);
	add(`one-empty-file-n${n}`, n, [{ identifier: 'empty', data: gen(0, 0) }]);
	add(`max-files-n${n}`, n, many(cols - 1, 37));
	add(`too-many-files-n${n}`, n, many(cols, 3));
	// The largest single patch: it fills every column after the index at the largest symbol size.
	const colSize = rows * 65534;
	const id = 'big';
	const overhead = 6 + 2 + 1 + id.length;
	if (n <= 10) {
		add(`largest-n${n}`, n, [{ identifier: id, data: gen((cols - 1) * colSize - overhead, 5) }]);
		add(`largest-plus-one-n${n}`, n, [{ identifier: id, data: gen((cols - 1) * colSize - overhead + 1, 5) }]);
	}
}
add('no-files-n10', 10, []);
add('mixed-n10', 10, [
	{ identifier: 'z-last', data: gen(1000, 3) },
	{ identifier: 'a-first', data: gen(10, 4), tags: { type: 'text', lang: 'en' } },
	{ identifier: 'm', data: gen(0, 0), tags: { '': 'empty key' } },
	{ identifier: '_leading-underscore', data: gen(5, 9) },
]);
add('tags-canonical-order-n10', 10, [
	{ identifier: 'tagged', data: gen(64, 1), tags: { b: '1', aa: '2', '10': 'ten', '9': 'nine', ccc: '' } },
]);
add('unicode-n10', 10, [
	{ identifier: 'é', data: { text: 'accent' } },
	{ identifier: '日本語/ファイル.txt', data: { text: 'こんにちは' }, tags: { 'ключ': 'значение' } },
	{ identifier: 'emoji-😀', data: gen(300, 7) },
	{ identifier: 'A', data: gen(2, 2) },
]);
add('duplicate-n10', 10, [
	{ identifier: 'same', data: gen(3, 1) },
	{ identifier: 'same', data: gen(4, 2) },
]);
add('order-a-n100', 100, [
	{ identifier: 'x', data: gen(500, 1) }, { identifier: 'y', data: gen(7000, 2) }, { identifier: 'w', data: gen(1, 3) },
]);
add('order-b-n100', 100, [
	{ identifier: 'w', data: gen(1, 3) }, { identifier: 'y', data: gen(7000, 2) }, { identifier: 'x', data: gen(500, 1) },
]);
add('uneven-n100', 100, [
	{ identifier: 'huge', data: gen(200000, 11) },
	...many(20, 5, 'tiny-'),
]);
add('600x10KiB-n1000', 1000, many(600, 10240));

function errorKind(message) {
	if (/duplicate/i.test(message)) return 'duplicate';
	if (/too many/i.test(message)) return 'too_many';
	if (/oversize|too large/i.test(message)) return 'too_large';
	return 'other: ' + message;
}

const out = [];
for (const c of cases) {
	const blobs = expand(c.files).map((f) => ({ identifier: f.identifier, tags: f.tags, contents: contents(f.data) }));
	const v = { name: c.name, nShards: c.nShards, files: c.files };
	try {
		const { quilt, index } = encodeQuilt({ blobs, numShards: c.nShards, encodingType: 'RS2' });
		const { rows, cols } = sourceSymbols(c.nShards);
		const meta = wasm.computeMetadata(c.nShards, quilt);
		v.quiltLength = quilt.length;
		v.symbolSize = quilt.length / (rows * cols);
		v.quiltSha256 = createHash('sha256').update(quilt).digest('hex');
		v.quiltId = meta.blobId;
		if (quilt.length <= 4096) v.quiltHex = Buffer.from(quilt).toString('hex');
		v.patches = index.patches.map((p) => ({
			identifier: p.identifier,
			start: p.startIndex,
			end: p.endIndex,
			patchId: urlSafeBase64(QuiltPatchId.serialize({
				quiltId: meta.blobId,
				patchId: { version: 1, startIndex: p.startIndex, endIndex: p.endIndex },
			}).toBytes()),
		}));
	} catch (e) {
		v.error = errorKind(String(e.message ?? e));
	}
	out.push(v);
}
// One vector a line keeps the file small and its diffs readable.
process.stdout.write('{"generator": "internal/quilt/testdata/genvectors.mjs",\n');
process.stdout.write(' "sdk": {"walrus": "1.2.13", "walrusWasm": "0.3.0"},\n "vectors": [\n');
process.stdout.write(out.map((v) => '  ' + JSON.stringify(v)).join(',\n'));
process.stdout.write('\n ]}\n');
