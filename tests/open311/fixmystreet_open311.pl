#!/usr/bin/env perl
# Drives FixMyStreet's own Open311 client (perllib/Open311.pm, unmodified, from a FixMyStreet
# checkout found at run time: nothing of FixMyStreet is in this repository) against our server.
#
#   perl fixmystreet_open311.pl PERLLIB ENDPOINT API_KEY CALL < args.json > result.json
#
# CALL is one of Open311.pm's methods: get_service_list, get_service_meta_info,
# send_service_request, get_service_requests, get_service_request_updates. The arguments come
# as JSON on stdin; the answer (what the method returned, what FixMyStreet would work with,
# and its success/error fields) goes to stdout as JSON.
#
# Open311.pm itself needs only CPAN modules Debian packages (libmoo-perl,
# libmoox-types-mooselike-perl, libwww-perl, liburi-perl, libxml-simple-perl,
# libdatetime-format-w3cdtf-perl, libpath-tiny-perl, libtry-tiny-perl), and the real
# perllib/Utils.pm is loaded for Utils::truncate_coordinate (the lat/long it sends). What is
# replaced below is the FixMyStreet application around the client, never the client:
#
# - FixMyStreet (perllib/FixMyStreet.pm): reads FixMyStreet's config through mySociety::Config
#   from the commonlib submodule (not in a perllib checkout). Open311.pm calls
#   FixMyStreet->config only for token polling, enquiry files and always_send_email, none of
#   which our server or these calls use; the shim has no config, so such a call would die.
# - FixMyStreet::Cobrand, FixMyStreet::DB: the cobrand registry and the DBIx::Class schema
#   (a database of problems). Open311.pm imports them and uses neither by name in these calls;
#   the problem and body it is handed are the objects below.
# - FixMyStreet::App::Model::PhotoSet, FixMyStreet::ImageMagick (Moose, Catalyst,
#   ImageMagick): only add_media uses them, which stores photos FixMyStreet downloads from
#   an update's media_url; not called here.
# - mySociety::GeoUtil, mySociety::Locale (commonlib): imported by Utils.pm. in_gb_locale
#   runs its block with LC_NUMERIC as en_GB so sprintf writes a decimal point; the process
#   runs in the C locale, where it already does, so the shim just runs the block.
#
# The problem and the body (FixMyStreet::DB::Result::Problem / ::Body, rows of FixMyStreet's
# database) are plain objects carrying exactly the fields and methods Open311.pm reads from
# them; they are blessed under those names because Open311.pm checks them (its
# fixmystreet_body attribute isa InstanceOf['FixMyStreet::DB::Result::Body'], and
# _add_photos_to_upload compares ref $obj to the Problem class).
use strict;
use warnings;

BEGIN {
    my $perllib = $ARGV[0] or die "usage: $0 PERLLIB ENDPOINT API_KEY CALL\n";
    die "no Open311.pm in $perllib\n" unless -f "$perllib/Open311.pm";
    unshift @INC, $perllib;
    # Marked as loaded so that `use` finds these shims and not the application modules.
    for my $module (qw(FixMyStreet FixMyStreet::Cobrand FixMyStreet::DB
                       FixMyStreet::App::Model::PhotoSet FixMyStreet::ImageMagick
                       mySociety::GeoUtil mySociety::Locale)) {
        (my $file = "$module.pm") =~ s{::}{/}g;
        $INC{$file} = __FILE__;
    }
}

package mySociety::Locale;
sub in_gb_locale (&) { return $_[0]->() }

package FeedbackTest::Cobrand;
# A FixMyStreet installation without cobrand hooks (no open311_munge_* changes).
sub new { return bless {}, shift }
sub call_hook { return undef }

package FixMyStreet::DB::Result::Body;
sub new { my ($class, %f) = @_; return bless {%f}, $class }
sub get_cobrand_handler { return undef }

package FeedbackTest::User;
sub new { my ($class, %f) = @_; return bless {%f}, $class }
sub email { return $_[0]{email} }
sub phone { return $_[0]{phone} }
sub name { return $_[0]{name} }

package FeedbackTest::PhotoSet;
# The photos of a problem as FixMyStreet's PhotoSet hands them out: ids like "hash.jpeg",
# image data by number.
sub new { my ($class, @photos) = @_; return bless [@photos], $class }
sub all_ids { return map { $_->{id} } @{ $_[0] } }
sub get_image_data {
    my ($self, %args) = @_;
    my $photo = $self->[ $args{num} ] or return undef;
    return { content_type => $photo->{content_type}, data => $photo->{data} };
}

package FixMyStreet::DB::Result::Problem;
sub new {
    my ($class, %f) = @_;
    $f{user} = FeedbackTest::User->new(%{ $f{user} || {} });
    $f{photos} = FeedbackTest::PhotoSet->new(@{ $f{photos} || [] });
    return bless {%f}, $class;
}
for my $field (qw(id title detail name phone_waste used_map latitude longitude postcode service
                  uprn cobrand non_public send_fail_count user)) {
    no strict 'refs';
    *{$field} = sub { return $_[0]{$field} };
}
sub photo { return scalar $_[0]{photos}->all_ids }
sub get_photoset { return $_[0]{photos} }
sub get_extra_fields { return $_[0]{extra_fields} || [] }
sub get_extra_metadata { my ($self, $key) = @_; return ($self->{extra_metadata} || {})->{$key} }
sub get_cobrand_logged { return FeedbackTest::Cobrand->new }
sub bodies { return {} }

package main;

use JSON;
use MIME::Base64;
use Open311;

my (undef, $endpoint, $api_key, $call) = @ARGV;
my $json = JSON->new->utf8->canonical;
my $args = $json->decode(do { local $/; <STDIN> } || '{}');

my $body = FixMyStreet::DB::Result::Body->new(name => $args->{body} || 'Feedback');
my $open311 = Open311->new(
    endpoint => $endpoint,
    api_key => $api_key,
    jurisdiction => $args->{jurisdiction} || '',
    fixmystreet_body => $body,
    %{ $args->{options} || {} },
);

my $result;
if ($call eq 'get_service_list') {
    $result = $open311->get_service_list;
} elsif ($call eq 'get_service_meta_info') {
    $result = $open311->get_service_meta_info($args->{service_code});
} elsif ($call eq 'send_service_request') {
    my %problem = %{ $args->{problem} };
    $problem{photos} = [ map { { %$_, data => decode_base64($_->{data}) } }
                         @{ $problem{photos} || [] } ];
    my $problem = FixMyStreet::DB::Result::Problem->new(%problem);
    $result = $open311->send_service_request($problem, $args->{extra} || {},
                                             $args->{service_code});
} elsif ($call eq 'get_service_requests') {
    $result = $open311->get_service_requests($args->{args} || {});
} elsif ($call eq 'get_service_request_updates') {
    $result = $open311->get_service_request_updates($args->{start_date}, $args->{end_date});
} else {
    die "unknown call $call\n";
}

print $json->encode({
    result => $result,
    success => $open311->success ? JSON::true : JSON::false,
    error => $open311->error,
});
