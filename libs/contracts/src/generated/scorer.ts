import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { PodScore as _kvr_scoring_v1_PodScore, PodScore__Output as _kvr_scoring_v1_PodScore__Output } from './kvr/scoring/v1/PodScore';
import type { ScoreRequest as _kvr_scoring_v1_ScoreRequest, ScoreRequest__Output as _kvr_scoring_v1_ScoreRequest__Output } from './kvr/scoring/v1/ScoreRequest';
import type { ScoreResponse as _kvr_scoring_v1_ScoreResponse, ScoreResponse__Output as _kvr_scoring_v1_ScoreResponse__Output } from './kvr/scoring/v1/ScoreResponse';
import type { ScorerClient as _kvr_scoring_v1_ScorerClient, ScorerDefinition as _kvr_scoring_v1_ScorerDefinition } from './kvr/scoring/v1/Scorer';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvr: {
    scoring: {
      v1: {
        PodScore: MessageTypeDefinition<_kvr_scoring_v1_PodScore, _kvr_scoring_v1_PodScore__Output>
        ScoreRequest: MessageTypeDefinition<_kvr_scoring_v1_ScoreRequest, _kvr_scoring_v1_ScoreRequest__Output>
        ScoreResponse: MessageTypeDefinition<_kvr_scoring_v1_ScoreResponse, _kvr_scoring_v1_ScoreResponse__Output>
        Scorer: SubtypeConstructor<typeof grpc.Client, _kvr_scoring_v1_ScorerClient> & { service: _kvr_scoring_v1_ScorerDefinition }
      }
    }
  }
}

