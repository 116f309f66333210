// Original file: libs/contracts/proto/kvr/scoring/v1/scorer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ScoreRequest as _kvr_scoring_v1_ScoreRequest, ScoreRequest__Output as _kvr_scoring_v1_ScoreRequest__Output } from '../../../kvr/scoring/v1/ScoreRequest';
import type { ScoreResponse as _kvr_scoring_v1_ScoreResponse, ScoreResponse__Output as _kvr_scoring_v1_ScoreResponse__Output } from '../../../kvr/scoring/v1/ScoreResponse';

export interface ScorerClient extends grpc.Client {
  /**
   * Scores every candidate pod for one request. Scores are normalised to [0, 1] by the scorer.
   */
  Score(argument: _kvr_scoring_v1_ScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _kvr_scoring_v1_ScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _kvr_scoring_v1_ScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _kvr_scoring_v1_ScoreRequest, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Scores every candidate pod for one request. Scores are normalised to [0, 1] by the scorer.
   */
  score(argument: _kvr_scoring_v1_ScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _kvr_scoring_v1_ScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _kvr_scoring_v1_ScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _kvr_scoring_v1_ScoreRequest, callback: grpc.requestCallback<_kvr_scoring_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ScorerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Scores every candidate pod for one request. Scores are normalised to [0, 1] by the scorer.
   */
  Score: grpc.handleUnaryCall<_kvr_scoring_v1_ScoreRequest__Output, _kvr_scoring_v1_ScoreResponse>;
  
}

export interface ScorerDefinition extends grpc.ServiceDefinition {
  Score: MethodDefinition<_kvr_scoring_v1_ScoreRequest, _kvr_scoring_v1_ScoreResponse, _kvr_scoring_v1_ScoreRequest__Output, _kvr_scoring_v1_ScoreResponse__Output>
}
