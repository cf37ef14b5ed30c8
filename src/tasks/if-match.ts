import { BadRequestException } from '@nestjs/common';

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;
const OUR_TAG = /^(0|[1-9]\d{0,8})$/;

/**
 * The versions an `If-Match` header accepts: undefined without the header or with `*` (any current
 * version), otherwise the versions named by its strong ETags, compared character by character as
 * RFC 9110 §13.1.1 requires: weak tags and tags this API never issues (`"01"`, `"abc"`) match nothing,
 * so the request fails with 412. A header that is not a list of entity tags is a 400.
 */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const tag of header.split(',').map((part) => part.trim())) {
    const match = ENTITY_TAG.exec(tag);
    if (!match) throw new BadRequestException('If-Match must be "*" or a list of ETags such as "3"');
    if (!match[1] && OUR_TAG.test(match[2])) versions.push(Number(match[2]));
  }
  return versions;
}

export function etag(version: number): string {
  return `"${version}"`;
}
