import { z } from 'zod';
import {
  coordinate,
  listOf,
  externalId,
  instant,
  looseBoolean,
  looseNumber,
  optionalHttpUrl,
  optionalInstant,
  optionalText,
  optionalTimeZone,
  requiredText,
  textList,
} from '../fields.js';

/**
 * The content of Stager's push feed, as assumed in shared/specs/stager-push-feed-contract.md
 * (Stager publishes the envelope, not the content). Every assumption about the content lives
 * in this file and normalize.ts.
 */

/** The message types the partner guide names; others are stored and ignored. */
export const STAGER_MESSAGE_TYPES: readonly string[] = ['UPDATE_EVENTS', 'ORGANIZATION_SYNC'];

export const envelopeSchema = z.object({
  messageType: z.string({ error: 'messageType must be a string' }),
  messageContent: z.unknown(),
});

export const contentSchema = z.object({
  organization: z.object(
    {
      id: externalId,
      name: optionalText,
    },
    { error: 'organization must be an object with an id' },
  ),
  events: z.array(z.unknown(), { error: 'events must be an array' }),
});

const location = z
  .object({
    name: optionalText,
    street: optionalText,
    postalCode: optionalText,
    city: optionalText,
    country: optionalText,
    latitude: coordinate(90),
    longitude: coordinate(180),
  })
  .nullish()
  .catch(null);

const description = z
  .union([
    z.object({ format: z.string().optional().catch(undefined), text: z.string() }),
    z.string().transform((text) => ({ format: 'HTML', text })),
  ])
  .nullish()
  .catch(null);

const image = z.object({ type: optionalText, url: optionalHttpUrl, altText: optionalText });
const ticketType = z.object({
  name: optionalText,
  priceInCents: looseNumber,
  feeInCents: looseNumber,
  soldOut: looseBoolean,
});

export const eventSchema = z.object({
  id: externalId,
  status: z
    .string()
    .transform((value) =>
      value
        .trim()
        .toUpperCase()
        .replace(/[\s-]+/g, '_'),
    )
    .nullish()
    .catch('UNKNOWN'),
  name: requiredText,
  subtitle: optionalText,
  startsAt: instant,
  endsAt: optionalInstant,
  doorsOpenAt: optionalInstant,
  timeZone: optionalTimeZone,
  location,
  genres: textList,
  tags: textList,
  description,
  images: listOf(image),
  ticketShopUrl: optionalHttpUrl,
  ticketTypes: listOf(ticketType),
  soldOut: looseBoolean,
  updatedAt: optionalInstant,
});

export type StagerEvent = z.output<typeof eventSchema>;
