import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../../config.js';
import { redactUrl } from '../../logger.js';
import { SOURCE_NAMES } from '../../sources/index.js';
import {
  CliError,
  loadCliConfig,
  refuseExtraArguments,
  UsageError,
  type Command,
} from '../command.js';

/**
 * A sample message per source with one upcoming event, stable ids so repeats update it. Each
 * carries a random `nonce` (ignored by the sources) so that a repeat is applied, not taken for a
 * duplicate of the last one.
 */
function sampleMessage(source: string, cfg: Config, now: Date): unknown {
  const nonce = randomUUID();
  const start = new Date(now.getTime() + 7 * 86_400_000);
  start.setUTCHours(19, 0, 0, 0);
  const end = new Date(start.getTime() + 3 * 3_600_000);
  if (source === 'stager') {
    return {
      nonce,
      messageType: 'UPDATE_EVENTS',
      messageContent: {
        organization: { id: 'marquee-send-test', name: 'Marquee send-test' },
        events: [
          {
            id: 'marquee-send-test',
            // OPTION keeps the event out of the public feeds; the admin page counts it as hidden.
            status: 'OPTION',
            name: 'Marquee test event',
            startsAt: start.toISOString(),
            endsAt: end.toISOString(),
            timeZone: cfg.timeZone,
            location: { name: 'Test venue', city: 'Amsterdam', country: 'NL' },
            description: { format: 'HTML', text: '<p>Sent by <code>marquee send-test</code>.</p>' },
            updatedAt: now.toISOString(),
          },
        ],
      },
    };
  }
  return {
    nonce,
    type: 'event',
    method: 'post',
    version: '1.0',
    data: {
      event: {
        _id: 'marquee-send-test',
        name: 'Marquee test event',
        begin: start.toISOString(),
        end: end.toISOString(),
        openEnd: false,
        description: 'Sent by marquee send-test.',
        location: { name: 'Test venue', city: 'Berlin' },
        cancelled: false,
        changedOn: now.toISOString(),
      },
    },
  };
}

/** The webhook URL for `source` from a base URL or a full webhook URL. */
function webhookUrl(base: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url: not a URL: ${base}`);
  }
  if (!/^https?:$/.test(url.protocol))
    throw new UsageError(`--url: must be http or https: ${base}`);
  if (url.username || url.password)
    throw new UsageError(
      '--url: leave credentials out of the URL; they come from EVENTPORT_BASIC_AUTH',
    );
  if (!url.pathname.endsWith(`/webhooks/${source}`))
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/webhooks/${source}`;
  return url;
}

/** `marquee send-test`: POSTs a signed sample (or a file) to a running Marquee's webhook. */
export const sendTestCommand: Command = {
  usage: 'marquee send-test <stager|eventport> [FILE] [--url URL] [--basic]',
  summary: 'POST a signed sample message (or FILE) to a Marquee webhook',
  details: `Sends FILE, or a built-in sample with one upcoming event, to the webhook of a running
Marquee, authenticated as the source would: Stager with an X-Signature HMAC made with the first
STAGER_SIGNING_KEYS key; Eventport with ?accessToken= and the first EVENTPORT_TOKENS token, or
HTTP Basic with the first EVENTPORT_BASIC_AUTH pair. Prints the HTTP status and the answer.

Every delivery it sends is marked as a test (X-Marquee-Test: 1): Marquee stores and processes
it, lists it on the admin page, and never publishes its events; a test leaves events of real
deliveries alone and its syncs remove nothing. The samples use the id marquee-send-test, so
repeats update the same event.

Options:
  --url URL   Marquee's base URL or the full webhook URL (default: PUBLIC_URL)
  --basic     Eventport: use HTTP Basic even when a token is configured`,
  options: { url: { type: 'string' }, basic: { type: 'boolean' } },
  async run(positionals, values, io) {
    const [source, file, ...extra] = positionals;
    if (!source || !SOURCE_NAMES.includes(source as never))
      throw new UsageError(`the source must be one of ${SOURCE_NAMES.join(', ')}`);
    refuseExtraArguments(extra);
    const cfg = loadCliConfig(io);
    const url = webhookUrl(typeof values.url === 'string' ? values.url : cfg.publicUrl, source);
    let body: Buffer;
    if (file) {
      try {
        body = fs.readFileSync(file);
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
      }
    } else {
      body = Buffer.from(JSON.stringify(sampleMessage(source, cfg, io.now()), null, 2));
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'marquee-send-test',
      // Stored as a test delivery: its events never reach public outputs (see the README).
      'x-marquee-test': '1',
    };
    if (source === 'stager') {
      const key = cfg.stager.signingKeys[0];
      if (!key) throw new CliError('STAGER_SIGNING_KEYS is not set; nothing to sign with');
      headers['x-signature'] = createHmac('sha256', key).update(body).digest('hex');
    } else {
      const token = cfg.eventport.tokens[0];
      const pair = cfg.eventport.basicAuth[0];
      if (token && !(values.basic && pair)) url.searchParams.set('accessToken', token);
      else if (pair)
        headers.authorization = `Basic ${Buffer.from(`${pair.user}:${pair.password}`).toString('base64')}`;
      else
        throw new CliError(
          'neither EVENTPORT_TOKENS nor EVENTPORT_BASIC_AUTH is set; nothing to authenticate with',
        );
    }
    io.out(
      `POST ${redactUrl(url.toString())} (${body.length} bytes${file ? ` from ${file}` : ', built-in sample'})`,
    );
    let response: Response;
    try {
      response = await io.fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new CliError(
        `request failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
      );
    }
    io.out(`HTTP ${response.status} ${response.statusText}`);
    io.out(await response.text());
    return response.ok ? 0 : 1;
  },
};
