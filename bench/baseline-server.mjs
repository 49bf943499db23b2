// The framework's ceiling: a minimal Express 5 app answering the same shapes of request as
// Marquee, in its own process. POST /ingest reads the body and answers 202; POST /durable does
// the durable work Marquee does per delivery and no more: one insert of the raw body into
// SQLite (WAL, synchronous=FULL) before the 202, requests of one event-loop turn sharing one
// commit as Marquee's group commit does (DURABLE_DATABASE names the file); PUT /fixed/:name
// stores a body that GET /fixed/:name then answers as a fixed string; GET /empty answers an
// empty 200. The bench stores the very bytes of the feed under test, because the load
// generator's cost depends on the content (it decodes bodies as UTF-8), not just the size.
import process from 'node:process';
import { setImmediate } from 'node:timers';
import Database from 'better-sqlite3';
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
const bodies = new Map();

app.post('/ingest', express.raw({ type: () => true, limit: '25mb' }), (_req, res) => {
  res.status(202).json({ status: 'accepted', delivery: 1 });
});
const database = new Database(process.env.DURABLE_DATABASE ?? ':memory:');
database.pragma('journal_mode = WAL');
database.pragma('synchronous = FULL');
database.exec(
  'create table if not exists deliveries (id integer primary key, received_at text not null, body blob not null)',
);
const insertDelivery = database.prepare('insert into deliveries (received_at, body) values (?, ?)');
const insertBatch = database.transaction((bodies) =>
  bodies.map((body) => Number(insertDelivery.run(new Date().toISOString(), body).lastInsertRowid)),
);
let waiting = [];

function flush() {
  const batch = waiting;
  waiting = [];
  try {
    const ids = insertBatch(batch.map((item) => item.body));
    batch.forEach((item, index) => item.resolve(ids[index]));
  } catch (error) {
    for (const item of batch) item.reject(error);
  }
}

/** Resolves with the delivery's id once its row is committed. */
function recordDelivery(body) {
  return new Promise((resolve, reject) => {
    waiting.push({ body, resolve, reject });
    if (waiting.length === 1) setImmediate(flush);
  });
}

app.post('/durable', express.raw({ type: () => true, limit: '25mb' }), async (req, res) => {
  const delivery = await recordDelivery(req.body);
  res.status(202).json({ status: 'accepted', delivery });
});
app.put('/fixed/:name', express.raw({ type: () => true, limit: '100mb' }), (req, res) => {
  bodies.set(req.params.name, { body: req.body, type: req.get('content-type') ?? 'text/plain' });
  res.status(204).end();
});
app.get('/fixed/:name', (req, res) => {
  const fixed = bodies.get(req.params.name);
  if (!fixed) return res.status(404).end();
  res.type(fixed.type).send(fixed.body);
});
app.get('/empty', (_req, res) => {
  res.status(200).end();
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: server.address().port })}\n`);
});
process.on('SIGTERM', () =>
  server.close(() => {
    database.close();
    process.exit(0);
  }),
);
