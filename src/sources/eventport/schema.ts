import { z } from 'zod';
import {
  externalId,
  listOf,
  instant,
  looseBoolean,
  looseNumber,
  optionalHttpUrl,
  optionalInstant,
  optionalText,
  requiredText,
  textList,
} from '../fields.js';

/**
 * Eventport's publisher webhook v1.0 and its pre-1.0 forms, parsed as loosely as
 * shared/specs/eventport-notes.md says real payloads require. Only public fields are read:
 * `remark`, `counterparts`, profile phone/e-mail, receiver lists and `channels` never are.
 */

/** True for the v1.0 messages the adapter reads: `event.post` and `event.cancel`. */
export function handlesMessageType(type: string, method: string): boolean {
  return type === 'event' && (method === 'post' || method === 'cancel');
}

/** True for the envelope versions the adapter reads: 1.x, or none given. */
export function handlesVersion(version: string | undefined): boolean {
  return version === undefined || /^1(\.\d+)?$/.test(version);
}

export const envelopeSchema = z.object({
  type: z.string(),
  method: z.string(),
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  data: z.unknown(),
});

const location = z
  .object({
    name: optionalText,
    street: optionalText,
    addressAddition: optionalText,
    addressAddiction: optionalText,
    postalcode: optionalText,
    city: optionalText,
    country: optionalText,
    latitude: looseNumber,
    longitude: looseNumber,
  })
  .nullish()
  .catch(null);

const link = z.union([
  z.object({ url: optionalHttpUrl, text: optionalText }),
  z.string().transform((url) => ({ url: optionalHttpUrl.parse(url), text: null })),
]);

const priceCategory = z.object({
  name: z
    .union([
      z.object({ id: optionalText, text: optionalText }),
      z.string().transform((text) => ({ id: null, text: optionalText.parse(text) })),
    ])
    .nullish()
    .catch(null),
  price: looseNumber,
});

// The API page shows `lineup` only empty: names as text, or objects with a name, are read.
const performer = z.union([
  z.string().transform((name) => optionalText.parse(name)),
  z.object({ name: optionalText }).transform((entry) => entry.name),
]);

const photo = z.object({
  url: optionalHttpUrl,
  title: optionalText,
  purposes: z
    .array(z.union([z.string(), z.number()]).transform(String))
    .nullish()
    .catch(null)
    .transform((value) => value ?? []),
});

export const eventSchema = z.object({
  _id: externalId,
  profileId: optionalText,
  name: requiredText,
  subtitle: optionalText,
  organizer: optionalText,
  inlet: optionalInstant,
  begin: instant,
  end: optionalInstant,
  openEnd: looseBoolean,
  description: optionalText,
  location,
  genres: textList,
  types: textList,
  priceCategories: listOf(priceCategory),
  preSalePrice: looseNumber,
  boxOfficePrice: looseNumber,
  specialPrice: looseNumber,
  tickets: listOf(link),
  photos: listOf(photo),
  soldOut: looseBoolean,
  rescheduled: looseBoolean,
  relocated: looseBoolean,
  cancelled: looseBoolean,
  changedOn: optionalInstant,
  preSaleBegin: optionalInstant,
  lineup: listOf(performer),
});

export type EventportEvent = z.output<typeof eventSchema>;

export type EventportProfile = NonNullable<z.output<typeof profileSchema>>;

export const profileSchema = z
  .object({ _id: optionalText, name: optionalText, homepage: optionalHttpUrl, city: optionalText })
  .nullish()
  .catch(null);
