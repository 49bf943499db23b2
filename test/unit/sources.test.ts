import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { describe as describeText } from '../../src/events/description.js';
import { createSources, sourceSettingsFrom } from '../../src/sources/index.js';

const { eventport } = createSources(sourceSettingsFrom(loadConfig({})));

describe('source quirks found by property tests', () => {
  it('cleans a price category given as a bare string', () => {
    const message = eventport.interpret(
      {
        type: 'event',
        method: 'post',
        version: '1.0',
        data: {
          event: {
            _id: 'PriceLabel0000001',
            name: 'Party',
            begin: '2027-01-01T20:00:00.000Z',
            priceCategories: [{ name: 'Door\u0000', price: 10 }],
          },
        },
      },
      { receivedAt: new Date('2026-11-22T12:00:00Z') },
    );
    expect(message.kind).toBe('upsert');
    if (message.kind !== 'upsert') return;
    expect(message.events[0]?.prices).toEqual([{ amount: 10, currency: 'EUR', label: 'Door' }]);
  });

  it('keeps only the text of a description whose markup outgrows the size limit', () => {
    // Each & becomes &amp; in HTML: 60,000 characters of text, 300,000 of markup.
    const result = describeText(`${'&'.repeat(60_000)} deep`, 'markdown');
    expect(result.html).toBeNull();
    expect(result.text).toContain('deep');
    expect(describeText('**bold** text', 'markdown').html).toBe(
      '<p><strong>bold</strong> text</p>',
    );
  });
});
