import { expect } from '@jest/globals';
import { Controller, Get, Module, Sse, type INestApplication } from '@nestjs/common';
import { ApiProperty, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { EMPTY } from 'rxjs';
import { Flush, FlushModule } from '../src/index.js';
import { ApiFlush } from '../src/swagger.js';
import { platforms, startApp } from './utils/platforms.js';

class HeadlineDto {
  @ApiProperty() title!: string;
  @ApiProperty({ required: false }) url?: string;
}

class RowDto {
  @ApiProperty() id!: number;
}

@Controller()
class DocumentedController {
  @Sse('news')
  @ApiFlush({
    events: {
      headline: HeadlineDto,
      removed: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    },
  })
  news() {
    return EMPTY;
  }

  @Get('export')
  @Flush({ format: 'ndjson' })
  @ApiFlush({ format: 'ndjson', events: { row: RowDto } })
  export() {
    return EMPTY;
  }

  @Get('log')
  @Flush({ format: 'text' })
  @ApiFlush({ format: 'text', events: { line: { type: 'string' } } })
  log() {
    return EMPTY;
  }
}

@Module({ imports: [FlushModule.forRoot()], controllers: [DocumentedController] })
class DocumentedModule {}

describe.each(platforms)('@ApiFlush() in the OpenAPI document (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [DocumentedModule]);
  });
  afterAll(() => app?.close());

  const documentOf = (version?: string) => {
    const builder = new DocumentBuilder().setTitle('streams');
    if (version) builder.setOpenAPIVersion(version);
    return SwaggerModule.createDocument(app, builder.build());
  };

  it('documents each stream route with its content type, its events and their schemas', () => {
    const doc = documentOf('3.2.0');
    expect(doc.openapi).toBe('3.2.0');
    const headline = {
      title: 'headline',
      type: 'object',
      required: ['event', 'data'],
      properties: {
        event: { type: 'string', enum: ['headline'] },
        data: { $ref: '#/components/schemas/HeadlineDto' },
        id: expect.objectContaining({ type: 'string' }),
        retry: expect.objectContaining({ type: 'integer' }),
      },
    };
    const removed = expect.objectContaining({
      title: 'removed',
      properties: expect.objectContaining({
        event: { type: 'string', enum: ['removed'] },
        data: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      }),
    });
    const news = doc.paths['/news'].get!;
    const sse = news.responses['200'] as unknown as {
      content: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(sse.content)).toEqual(['text/event-stream']);
    expect(sse.content['text/event-stream'].itemSchema).toEqual({
      oneOf: [headline, removed],
      description: expect.stringContaining('server-sent event'),
    });
    // OpenAPI 3.0/3.1 tools read `schema`: the same item schema, said to be one item.
    expect(sse.content['text/event-stream'].schema).toEqual({
      oneOf: [headline, removed],
      description: expect.stringContaining('One item of the stream'),
    });
    expect(doc.components?.schemas?.HeadlineDto).toEqual({
      type: 'object',
      properties: { title: { type: 'string' }, url: { type: 'string' } },
      required: ['title'],
    });

    const rows = doc.paths['/export'].get!.responses['200'] as unknown as {
      content: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(rows.content)).toEqual(['application/x-ndjson']);
    expect(rows.content['application/x-ndjson'].itemSchema).toEqual({
      title: 'row',
      allOf: [{ $ref: '#/components/schemas/RowDto' }],
      description: 'One line: the JSON of one event.',
    });
    expect(doc.components?.schemas?.RowDto).toBeDefined();

    const log = doc.paths['/log'].get!.responses['200'] as unknown as {
      content: Record<string, Record<string, unknown>>;
    };
    expect(log.content['text/plain'].itemSchema).toEqual({
      title: 'line',
      type: 'string',
      description: 'One chunk of text.',
    });
  });

  it('keeps the default document version of @nestjs/swagger (3.0.0) valid JSON with the same content', () => {
    const doc = documentOf();
    expect(doc.openapi).toBe('3.0.0');
    const content = (
      doc.paths['/news'].get!.responses['200'] as unknown as { content: Record<string, unknown> }
    ).content;
    expect(Object.keys(content)).toEqual(['text/event-stream']);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('refuses an empty event map or an unknown format when the class is declared', () => {
    expect(() => ApiFlush({ events: {} })).toThrow(/"events" must name at least one event/);
    expect(() => ApiFlush({ format: 'xml' as never, events: { a: { type: 'string' } } })).toThrow(
      /"format" must be 'sse', 'ndjson' or 'text'; received "xml"/,
    );
  });
});
