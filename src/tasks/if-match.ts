import { BadRequestException } from '@nestjs/common';

/**
 * The versions an `If-Match` header accepts: undefined without the header or with `*` (any current
 * version), otherwise the numbers of its strong ETags. Weak ETags never match (RFC 9110 §13.1.1).
 */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const tag of header.split(',').map((part) => part.trim())) {
    const match = /^"(\d{1,9})"$/.exec(tag);
    if (match) versions.push(Number(match[1]));
    else if (!/^W\/"[^"]*"$/.test(tag))
      throw new BadRequestException('If-Match must be "*" or a list of ETags such as "3"');
  }
  return versions;
}

export function etag(version: number): string {
  return `"${version}"`;
}
