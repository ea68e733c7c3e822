// Drives an MCP server over Streamable HTTP with the official TypeScript SDK's client.
//
//     node drive.cjs URL PROTOCOL_VERSION [lists]
//
// The SDK (1.x) always offers its latest protocol version in `initialize`; to speak an older
// generation the transport rewrites the offered version (2025-06-18, 2025-03-26), which the SDK
// accepts back. Runs the same operations on every server and prints one JSON object on stdout:
// the negotiated protocol version and, per operation, {"ok": result} or {"error": {code, message}}.
// With `lists`, only the lists (for a server that has none of the `files_*` tools).
// The SDK is loaded from $ONLY1MCP_PEERS_NODE_DIR/node_modules (scripts/install-peers).
'use strict';

const path = require('node:path');
const { createRequire } = require('node:module');

const peers = process.env.ONLY1MCP_PEERS_NODE_DIR;
if (!peers) {
  console.error('ONLY1MCP_PEERS_NODE_DIR is not set (scripts/install-peers prints it)');
  process.exit(2);
}
const load = createRequire(path.join(peers, 'package.json'));
const { Client } = load('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = load('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { McpError } = load('@modelcontextprotocol/sdk/types.js');

async function outcome(call) {
  try {
    return { ok: await call() };
  } catch (e) {
    if (e instanceof McpError) {
      // McpError prefixes its message with "MCP error CODE: "; the wire message is what counts.
      return { error: { code: e.code, message: e.message.replace(/^MCP error -?\d+: /, '') } };
    }
    throw e;
  }
}

const LISTS = ['tools/list', 'resources/list', 'prompts/list', 'resources/templates/list'];

async function drive(url, version, onlyLists) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (message.method === 'initialize') {
      message = { ...message, params: { ...message.params, protocolVersion: version } };
    }
    return send(message, options);
  };
  let negotiated;
  const setProtocolVersion = transport.setProtocolVersion.bind(transport);
  transport.setProtocolVersion = (v) => {
    negotiated = v;
    setProtocolVersion(v);
  };
  const client = new Client({ name: 'only1mcp-interop-ts', version: '1.0.0' });
  await client.connect(transport);
  const args = { text: 'interop' };
  const ops = {
    'tools/list': () => client.listTools(),
    'resources/list': () => client.listResources(),
    'prompts/list': () => client.listPrompts(),
    'resources/templates/list': () => client.listResourceTemplates(),
    'tools/call files_echo': () => client.callTool({ name: 'files_echo', arguments: args }),
    'tools/call files_flaky': () => client.callTool({ name: 'files_flaky', arguments: args }),
    'tools/call files_fail': () => client.callTool({ name: 'files_fail', arguments: args }),
    'resources/read': () => client.readResource({ uri: 'demo://files/readme' }),
    'prompts/get files_greet': () => client.getPrompt({ name: 'files_greet', arguments: { who: 'ada' } }),
    'completion/complete': () =>
      client.complete({
        ref: { type: 'ref/prompt', name: 'files_greet' },
        argument: { name: 'who', value: 'a' },
      }),
  };
  const results = {};
  for (const [name, call] of Object.entries(ops)) {
    if (onlyLists && !LISTS.includes(name)) continue;
    results[name] = await outcome(call);
  }
  results.protocolVersion = negotiated;
  await transport.terminateSession().catch(() => {});
  await client.close();
  return results;
}

const [url, version, only] = process.argv.slice(2);
drive(url, version, only === 'lists').then(
  (results) => console.log(JSON.stringify(results)),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
