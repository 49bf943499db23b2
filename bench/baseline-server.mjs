// The framework's ceiling: a minimal Express 5 app answering the same shapes of request as
// Marquee, in its own process. POST /ingest reads the body and answers 202; PUT /fixed/:name
// stores a body that GET /fixed/:name then answers as a fixed string; GET /empty answers an
// empty 200. The bench stores the very bytes of the feed under test, because the load
// generator's cost depends on the content (it decodes bodies as UTF-8), not just the size.
import process from 'node:process';
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
const bodies = new Map();

app.post('/ingest', express.raw({ type: () => true, limit: '25mb' }), (_req, res) => {
  res.status(202).json({ status: 'accepted', delivery: 1 });
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
process.on('SIGTERM', () => server.close(() => process.exit(0)));
