#!/usr/bin/env node
// Reference token ids for the Qwen3 test fixture, from an independent tokenizer implementation:
// transformers.js's tokenizers (npm package @lenml/tokenizers, Apache-2.0, no dependencies).
//
// For every reference rendering tokenizers/qwen3/expected/<case>.txt (written by
// src/test/python/render_chat_fixtures.py) it writes expected/<case>.ids.json: the ids of the
// rendered text encoded without added special tokens, as apply_chat_template(tokenize=True) does.
// The Java tests compare DJL's encoding against these; they do not need Node.
//
// Run from the repository root:
//   (cd /tmp && mkdir -p jsref && cd jsref && npm install @lenml/tokenizers@3.7.2)
//   NODE_PATH=/tmp/jsref/node_modules node llm/src/test/js/encode_qwen3_fixtures.js
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { TokenizerLoader } = require('@lenml/tokenizers');

const dir = path.join(__dirname, '..', 'resources', 'tokenizers', 'qwen3');
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'tokenizer.json.gz'))).toString('utf8')),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
});
const expected = path.join(dir, 'expected');
const renderings = fs.readdirSync(expected).filter((f) => f.endsWith('.txt')).sort();
for (const file of renderings) {
  const text = fs.readFileSync(path.join(expected, file), 'utf8');
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  fs.writeFileSync(path.join(expected, file.replace(/\.txt$/, '.ids.json')), JSON.stringify(ids) + '\n');
}
console.log(`qwen3: ${renderings.length} encodings`);
