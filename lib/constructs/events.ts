import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

export interface EventsProps {
  readonly busName: string;
}

/** Events for other services: the layer's own EventBridge bus (ids and kinds, never content). */
export class Events extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: EventsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName });
  }
}
