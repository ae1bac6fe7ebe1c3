import { BadRequestException } from '@nestjs/common';

/** What the page posts to `POST /api/chat`. */
export interface ChatMessageInput {
  user: string;
  text: string;
}

/** What subscribers of the `chat` channel receive. */
export interface ChatMessage extends ChatMessageInput {
  /** Server time of publication (ms since the epoch). */
  at: number;
}

export const MAX_USER_LENGTH = 32;
export const MAX_TEXT_LENGTH = 500;

/** Validates a posted message (400 on bad input) and trims it. */
export const parseChatMessage = (body: unknown): ChatMessageInput => {
  const { user, text } = (body ?? {}) as Record<string, unknown>;
  const clean = (value: unknown, field: string, max: number): string => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new BadRequestException(`"${field}" must be a non-empty string`);
    }
    const trimmed = value.trim();
    if (trimmed.length > max)
      throw new BadRequestException(`"${field}" must be at most ${max} characters`);
    return trimmed;
  };
  return { user: clean(user, 'user', MAX_USER_LENGTH), text: clean(text, 'text', MAX_TEXT_LENGTH) };
};
