import fs from 'node:fs';
import path from 'node:path';
import type { NewDelivery } from './inbox-repository.js';

/** The header naming the spool file a delivery came from: its idempotency key with the body hash. */
export const SPOOL_HEADER = 'x-marquee-spool';

interface SpoolRecord {
  source: string;
  receivedAt: string;
  contentType: string | null;
  headers: Record<string, string>;
  body: string;
  bodySha256: string;
  status: 'pending' | 'rejected';
  error: string | null;
}

/** A spooled delivery, as it goes into the inbox. */
export interface SpooledDelivery {
  name: string;
  delivery: NewDelivery;
}

/**
 * Deliveries acknowledged while the database could not take writes: one file each in a
 * directory beside the database, on disk (file and directory synced) before the 202. Files are
 * named so that their order is the order of arrival; a file is deleted only after its inbox row
 * committed, and the row carries the file's name, so an import redone after a crash is noticed.
 */
export class DeliverySpool {
  private sequence = 0;
  private held: number;

  constructor(private readonly directory: string) {
    fs.mkdirSync(directory, { recursive: true });
    // A file still being written when the process stopped was never acknowledged.
    for (const name of fs.readdirSync(directory)) {
      if (name.endsWith('.tmp')) fs.rmSync(path.join(directory, name), { force: true });
    }
    this.held = this.names().length;
  }

  /** True while deliveries wait here: new ones join them, to keep the order of arrival. */
  isHolding(): boolean {
    return this.held > 0;
  }

  /** Writes a delivery durably; resolves with its file name once file and directory are synced. */
  async hold(delivery: NewDelivery): Promise<string> {
    this.held += 1;
    try {
      this.sequence += 1;
      const name = `${String(delivery.receivedAt.getTime()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(this.sequence).padStart(9, '0')}-${delivery.bodySha256.slice(0, 16)}.json`;
      const record: SpoolRecord = {
        ...delivery,
        receivedAt: delivery.receivedAt.toISOString(),
        body: delivery.body.toString('base64'),
      };
      const finalPath = path.join(this.directory, name);
      const temporary = `${finalPath}.tmp`;
      const file = await fs.promises.open(temporary, 'w');
      try {
        await file.writeFile(JSON.stringify(record));
        await file.sync();
      } finally {
        await file.close();
      }
      await fs.promises.rename(temporary, finalPath);
      await this.syncDirectory();
      return name;
    } catch (error) {
      this.held -= 1;
      throw new Error(`inbox: could not spool a delivery: ${String(error)}`, { cause: error });
    }
  }

  /** The spooled deliveries, oldest first. */
  names(): string[] {
    return fs
      .readdirSync(this.directory)
      .filter((name) => name.endsWith('.json'))
      .sort();
  }

  /** Reads one spooled delivery, its name added to its headers. */
  read(name: string): SpooledDelivery {
    const record = JSON.parse(
      fs.readFileSync(path.join(this.directory, name), 'utf8'),
    ) as SpoolRecord;
    return {
      name,
      delivery: {
        ...record,
        receivedAt: new Date(record.receivedAt),
        headers: { ...record.headers, [SPOOL_HEADER]: name },
        body: Buffer.from(record.body, 'base64'),
      },
    };
  }

  /** Deletes a file whose delivery is committed in the inbox. */
  async release(name: string): Promise<void> {
    await fs.promises.rm(path.join(this.directory, name), { force: true });
    this.held = Math.max(0, this.held - 1);
    await this.syncDirectory();
  }

  private async syncDirectory(): Promise<void> {
    const directory = await fs.promises.open(this.directory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

/** Where the spool lives: a directory beside the database file. */
export function spoolDirectoryFor(databasePath: string): string | null {
  if (databasePath === ':memory:') return null;
  const resolved = path.resolve(databasePath);
  return path.join(path.dirname(resolved), `${path.basename(resolved)}.spool`);
}
