import { Module } from '@nestjs/common';
import { FlushModule } from 'nestjs-flush';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';
import { NewsController } from './news/news.controller.js';

@Module({
  imports: [FlushModule.forRoot()], // once, in the root module: it is global
  controllers: [AppController, NewsController],
  providers: [AppService],
})
export class AppModule {}
